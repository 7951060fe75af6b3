#!/usr/bin/env bash
# Training speed, side by side: SPLADE training steps of package train
# (scripts/bench/trainstep) and of PyTorch 1.13 (train_torch.py) on the same
# model shape, batch, lengths and objective (ranking loss with in-batch
# negatives + FLOPS on queries and documents, AdamW with clipping),
# alternating between the two. See TRAINING.md, "Training speed". Not used
# by CI.
#
# Usage (from the repository root):
#   scripts/bench/train.sh
# Environment:
#   CONFIGS="small"   any of: small (4 layers x 256 hidden, 4 heads),
#                     distilbert (6 x 768, 12 heads); vocabulary 30,522
#   BATCH=16 QLEN=32 DLEN=256   queries per step (documents: 2 x BATCH),
#                     tokens per query and per document
#   THREADS=2         threads for both
#   ROUNDS=3          alternations of Go and PyTorch per config
#   STEPS=3 WARMUP=1  timed and untimed steps per run (medians reported)
#   PYTHON=/usr/bin/python3   a python3 with torch 1.13
set -euo pipefail

CONFIGS=${CONFIGS:-small}
BATCH=${BATCH:-16}
QLEN=${QLEN:-32}
DLEN=${DLEN:-256}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
STEPS=${STEPS:-3}
WARMUP=${WARMUP:-1}
PYTHON=${PYTHON:-/usr/bin/python3}
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS PYTHONDONTWRITEBYTECODE=1

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=scripts/bench/check_blas.sh
source scripts/bench/check_blas.sh

load() { echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"; }

echo "== machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; threads $THREADS; $(date -u +%FT%TZ)"
go build -o "$work/trainstep" ./scripts/bench/trainstep

shape() {
	case $1 in
	small) echo "--layers 4 --hidden 256 --heads 4" ;;
	distilbert) echo "--layers 6 --hidden 768 --heads 12" ;;
	*)
		echo "unknown config $1 (want small or distilbert)" >&2
		exit 1
		;;
	esac
}

for c in $CONFIGS; do
	args="$(shape "$c") --vocab 30522 --batch $BATCH --qlen $QLEN --dlen $DLEN --threads $THREADS --steps $STEPS --warmup $WARMUP"
	for ((r = 1; r <= ROUNDS; r++)); do
		load
		echo "== Go: trainstep $args (round $r)"
		# shellcheck disable=SC2086 # args is a list of flags
		"$work/trainstep" $args | tee "$work/go.$c.$r.json"
		load
		echo "== PyTorch: train_torch.py $args (round $r)"
		# shellcheck disable=SC2086
		"$PYTHON" scripts/bench/train_torch.py $args | tee "$work/torch.$c.$r.json"
	done
done
load

"$PYTHON" - "$work" "$ROUNDS" $CONFIGS <<'EOF'
import json, statistics, sys
work, rounds, configs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
print()
print("steps/s, medians over %d alternating round(s) (each run: the median of its timed steps)" % rounds)
print("| config | params | batch | Go steps/s | PyTorch steps/s | Go/PyTorch |")
print("|---|---|---|---|---|---|")
for c in configs:
    go = [json.load(open("%s/go.%s.%d.json" % (work, c, r))) for r in range(1, rounds + 1)]
    pt = [json.load(open("%s/torch.%s.%d.json" % (work, c, r))) for r in range(1, rounds + 1)]
    g = statistics.median(x["steps_per_s"] for x in go)
    p = statistics.median(x["steps_per_s"] for x in pt)
    d = go[0]
    shape = "%d x %d, %d heads" % (d["layers"], d["hidden"], d["heads"])
    batch = "%d q x %d + %d d x %d" % (d["batch"], d["qlen"], 2 * d["batch"], d["dlen"])
    print("| %s (%s) | %.1fM | %s | %.4f | %.4f | %.2fx |" % (c, shape, d["params"] / 1e6, batch, g, p, g / p))
    for r in range(rounds):
        print("  round %d: Go %.3f s/step (%.2f CPU-s), PyTorch %.3f s/step (%.2f CPU-s); ratio %.2f" % (
            r + 1, go[r]["median_s"], statistics.median(go[r]["cpu_s"]), pt[r]["median_s"],
            statistics.median(pt[r]["cpu_s"]), pt[r]["median_s"] / go[r]["median_s"]))
    if d["params"] != pt[0]["params"]:
        sys.exit("parameter counts differ: Go %d, PyTorch %d" % (d["params"], pt[0]["params"]))
print("engines: %s | %s, BLAS %s" % (go[0]["engine"], pt[0]["engine"], ", ".join(pt[0]["blas"])))
EOF
