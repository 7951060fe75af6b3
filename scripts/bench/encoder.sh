#!/usr/bin/env bash
# Encoder speed, side by side: the Go encoder (splade bench-encode), PyTorch
# (torch_bench.py, the plain-torch reference) and ONNX Runtime (ort_bench.js,
# the same model exported to ONNX), run in lockstep (lockstep.py) on the same
# random DistilBERT-size SPLADE checkpoint and the same text lengths. See
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
#   ROUNDS=5       lockstep rounds (scripts/bench/lockstep.py): each round
#                  hands one 16 x 128 batch, QUERIES single queries and the
#                  mixed set to Go, ONNX Runtime (and PyTorch) in turn, so
#                  that all see the same load on a shared machine; medians
#   QUERIES=10     single queries per engine per round
#   PAUSE=0.25     seconds between two engines' runs (lockstep.py --pause).
#                  Worker threads keep spinning after an engine's last task:
#                  CPU time in the 2 s after a query (idle_cpu.py), PyTorch
#                  (OpenBLAS, OpenMP) 0.07-0.10 s, ONNX Runtime 0.03-0.04 s,
#                  Go 0.00-0.01 s.
#                  With lockstep.py's default 0.05 s, PyTorch's leftover
#                  spinning overlaps the next engine's timed run. (The Go
#                  query's larger loss after idle spells was the guest
#                  kernel stacking threads on one vCPU, fixed by pinning:
#                  BENCHMARKS.md, "Encoder".)
set -euo pipefail

THREADS=${THREADS:-2}
DOCS=${DOCS:-512}
PARITY=${PARITY:-1}
TORCH=${TORCH:-1}
ROUNDS=${ROUNDS:-5}
QUERIES=${QUERIES:-10}
PAUSE=${PAUSE:-0.25}
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

load
echo "== Go: splade bench-encode (writes the mixed texts' token counts and the parity vectors)"
"$work/splade" bench-encode --model "$work/model" --threads "$THREADS" --docs "$DOCS" --json \
	--lengths-out "$work/lengths.txt" --parity-out "$work/parity.json" | tee "$work/go.json"

echo "== lockstep: $ROUNDS rounds, engines interleaved workload by workload"
engines=(--engine "Go=$work/splade bench-encode --model $work/model --threads $THREADS --docs $DOCS --lockstep"
	--engine "ORT=node scripts/bench/ort_bench.js $work/onnx/model.onnx $work/lengths.txt $THREADS $work/onnx/check.json --lockstep")
if [[ "$TORCH" == 1 ]]; then
	engines+=(--engine "PyTorch=$PYTHON scripts/bench/torch_bench.py --model $work/model --threads $THREADS --lengths $work/lengths.txt --lockstep")
fi
"$PYTHON" scripts/bench/lockstep.py --rounds "$ROUNDS" --queries "$QUERIES" --pause "$PAUSE" --mixed-docs "$(wc -l <"$work/lengths.txt")" \
	--out "$work/lockstep.json" "${engines[@]}" 2> >(grep -v Warning >&2) | tee "$work/lockstep.txt"
load

if [[ "$PARITY" == 1 ]]; then
	echo "== parity: Go vs the PyTorch reference"
	"$PYTHON" scripts/bench/torch_bench.py --model "$work/model" --threads "$THREADS" --skip-bench \
		--parity "$work/parity.json" 2>/dev/null | tee "$work/parity_result.json"
fi

if [[ -f "$work/parity_result.json" ]]; then
	"$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); print("parity over %d texts (%s tokens): max |Go - torch float64| = %.2g, max |torch float32 - float64| = %.2g, max |Go - torch float32| = %.2g (largest weight %.2f)" % (r["parity_texts"], r["parity_tokens"], r["parity_max_abs_go_vs_f64"], r["parity_max_abs_torch32_vs_f64"], r["parity_max_abs_go_vs_torch32"], r["parity_max_weight"]))' "$work/parity_result.json"
fi
