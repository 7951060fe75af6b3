#!/usr/bin/env bash
# Encoder speed, side by side: the Go encoder (splade bench-encode), PyTorch
# (torch_bench.py, the plain-torch reference) and ONNX Runtime (ort_bench.js,
# the same model exported to ONNX), one after the other on the same random
# DistilBERT-size SPLADE checkpoint and the same text lengths. See
# BENCHMARKS.md, "Encoder". Not used by CI.
#
# Usage (from the repository root):
#   scripts/bench/encoder.sh
# Environment:
#   THREADS=2      threads for every engine
#   DOCS=512       mixed workload: the first DOCS SciFact abstracts
#   WORKDIR=DIR    keep the model (~360 MB), ONNX export and results in DIR
#                  and reuse them on the next run (default: a temporary
#                  directory, removed at the end)
#   PARITY=1       compare Go's vectors with PyTorch's (0: skip; it takes
#                  minutes in float64)
#   ORT_DIR=/work/ortbench  where `npm install onnxruntime-node@1.30.0` ran
#   PYTHON=/usr/bin/python3 a python3 with torch (1.13) and numpy
#   TORCH=1        time PyTorch too (0: skip it; it is still used to export
#                  the ONNX model and for parity). Debian's torch 1.13 needs
#                  OpenBLAS as libblas.so.3 (libopenblas0-pthread), checked
#                  here: on netlib's reference BLAS it takes tens of minutes
#   ROUNDS=1       run Go, ONNX Runtime (and PyTorch) in turn this many times
#                  and report medians (the machines are shared and noisy)
set -euo pipefail

THREADS=${THREADS:-2}
DOCS=${DOCS:-512}
PARITY=${PARITY:-1}
TORCH=${TORCH:-1}
ROUNDS=${ROUNDS:-1}
PYTHON=${PYTHON:-/usr/bin/python3}
export ORT_DIR=${ORT_DIR:-/work/ortbench}
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS PYTHONDONTWRITEBYTECODE=1

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
if [[ -n "${WORKDIR:-}" ]]; then
	work=$WORKDIR
	mkdir -p "$work"
else
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
fi

rm -f "$work/parity_result.json"

load() { echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"; }

if [[ "$TORCH" == 1 ]]; then
	# shellcheck source=scripts/bench/check_blas.sh
	source scripts/bench/check_blas.sh
fi

echo "== machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; threads $THREADS; $(date -u +%FT%TZ)"
go build -o "$work/splade" ./cmd/splade
if [[ ! -f "$work/model/model.safetensors" ]]; then
	"$PYTHON" scripts/bench/make_model.py --out "$work/model"
fi

if [[ ! -f "$work/onnx/model.onnx" ]]; then
	echo "== exporting to ONNX"
	"$PYTHON" scripts/bench/torch_bench.py --model "$work/model" --threads "$THREADS" --skip-bench \
		--export "$work/onnx" 2>/dev/null >/dev/null
fi

for ((r = 1; r <= ROUNDS; r++)); do
	load
	echo "== Go: splade bench-encode (round $r)"
	"$work/splade" bench-encode --model "$work/model" --threads "$THREADS" --docs "$DOCS" --json \
		--lengths-out "$work/lengths.txt" --parity-out "$work/parity.json" | tee "$work/go.$r.json"
	load
	echo "== ONNX Runtime: ort_bench.js (round $r)"
	node scripts/bench/ort_bench.js "$work/onnx/model.onnx" "$work/lengths.txt" "$THREADS" "$work/onnx/check.json" |
		tee "$work/ort.$r.json"
	if [[ "$TORCH" == 1 ]]; then
		load
		echo "== PyTorch: torch_bench.py (round $r)"
		"$PYTHON" scripts/bench/torch_bench.py --model "$work/model" --threads "$THREADS" \
			--lengths "$work/lengths.txt" 2>/dev/null | tee "$work/torch.$r.json"
	fi
done
load

if [[ "$PARITY" == 1 ]]; then
	echo "== parity: Go vs the PyTorch reference"
	"$PYTHON" scripts/bench/torch_bench.py --model "$work/model" --threads "$THREADS" --skip-bench \
		--parity "$work/parity.json" 2>/dev/null | tee "$work/parity_result.json"
fi

"$PYTHON" - "$work" "$ROUNDS" "$TORCH" <<'EOF'
import json, statistics, sys
work, rounds, torch_on = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
runs = lambda name: [json.load(open("%s/%s.%d.json" % (work, name, r))) for r in range(1, rounds + 1)]
go, ort = runs("go"), runs("ort")
pts = runs("torch") if torch_on else []
med = lambda runs, key: statistics.median(x[key] for x in runs)
pt = {k: med(pts, k) for k in ("batch16x128_docs_per_s", "query16_ms_median", "mixed_docs_per_s")} if pts else {}
if pts:
    pt["engine"] = "%s (BLAS %s)" % (pts[0]["engine"], ", ".join(pts[0]["blas"]))
rows = [("docs/s, batch 16 x 128", "batch16x128_docs_per_s", True),
        ("ms, one 16-token query", "query16_ms_median", False),
        ("docs/s, mixed (%d SciFact texts, mean %.0f tokens)" % (go[0]["mixed_docs"], go[0]["mixed_mean_tokens"]), "mixed_docs_per_s", True)]
print()
print("medians over %d alternating round(s)" % rounds)
print("| %-50s | %9s | %9s | %9s | %7s | %10s |" % ("workload", "Go", "PyTorch", "ORT", "Go/ORT", "Go/PyTorch"))
print("|%s|%s|%s|%s|%s|%s|" % ("-" * 52, "-" * 11, "-" * 11, "-" * 11, "-" * 9, "-" * 12))
for name, key, higher in rows:
    g, o = med(go, key), med(ort, key)
    p = pt.get(key)
    # Ratios > 1 mean Go is better: speed ratio for throughput, inverse for latency.
    r_o = g / o if higher else o / g
    ps, rps = ("%9.2f" % p, "%9.2fx" % ((g / p) if higher else (p / g))) if p else ("%9s" % "-", "%10s" % "-")
    print("| %-50s | %9.2f | %s | %9.2f | %6.2fx | %s |" % (name, g, ps, o, r_o, rps))
for r in range(rounds):
    line = "round %d: Go %s | ORT %s" % (r + 1, {k: round(go[r][k], 2) for _, k, _ in rows}, {k: round(ort[r][k], 2) for _, k, _ in rows})
    if pts:
        line += " | PyTorch %s" % {k: round(pts[r][k], 2) for _, k, _ in rows}
    print(line)
print("\nratios: Go's speed over the other's (> 1: Go is faster; for latency, the other's ms over Go's)")
print("engines: %s | %s | %s" % (go[0]["engine"], pt.get("engine", "PyTorch skipped"), ort[0]["engine"]))
if "check_max_abs_vs_torch" in ort[0]:
    print("ONNX export check: max |ORT - PyTorch| = %.2g" % ort[0]["check_max_abs_vs_torch"])
EOF
if [[ -f "$work/parity_result.json" ]]; then
	"$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); print("parity over %d texts (%s tokens): max |Go - torch float64| = %.2g, max |torch float32 - float64| = %.2g, max |Go - torch float32| = %.2g (largest weight %.2f)" % (r["parity_texts"], r["parity_tokens"], r["parity_max_abs_go_vs_f64"], r["parity_max_abs_torch32_vs_f64"], r["parity_max_abs_go_vs_torch32"], r["parity_max_weight"]))' "$work/parity_result.json"
fi
