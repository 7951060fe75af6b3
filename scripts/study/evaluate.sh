#!/usr/bin/env bash
# Evaluates a SPLADE checkpoint on a BEIR collection's test split with the
# splade binary: encode corpus and test queries, index, exhaustive search,
# trec_eval-style metrics and the paper's FLOPS. Prints "metric<TAB>value"
# lines (ndcg_cut_10, recall_100, mrr_10, flops, docs_nnz_mean,
# queries_nnz_mean).
#
#   scripts/study/evaluate.sh MODEL_DIR [DATA_DIR] [DOC_LENGTH] [WORK_DIR]
#
# DATA_DIR defaults to ../shared/data/beir/scifact; DOC_LENGTH to 512;
# SPLADE to the splade binary to use (default: go run ./cmd/splade).
set -euo pipefail
model=$1
data=${2:-../shared/data/beir/scifact}
doclen=${3:-512}
work=${4:-$(mktemp -d)}
splade=${SPLADE:-"go run ./cmd/splade"}
threads=${THREADS:-2}
mkdir -p "$work"
# Test queries: the ids of the test qrels, texts from queries.jsonl.
python3 - "$data" "$work/queries.tsv" <<'PY'
import json, sys
data, out = sys.argv[1:]
ids = set()
for i, line in enumerate(open(f"{data}/qrels/test.tsv")):
    f = line.split("\t")
    if i == 0 and not f[2].strip().isdigit():
        continue  # BEIR header
    ids.add(f[0])
with open(out, "w") as w:
    for line in open(f"{data}/queries.jsonl"):
        q = json.loads(line)
        if q["_id"] in ids:
            w.write(q["_id"] + "\t" + q["text"].replace("\t", " ").replace("\n", " ") + "\n")
PY
$splade encode --model "$model" --input "$data/corpus.jsonl.gz" --output "$work/docs.jsonl.gz" \
  --max-length "$doclen" --threads "$threads" 2>/dev/null
$splade encode --model "$model" --input "$work/queries.tsv" --output "$work/queries.jsonl" \
  --query --threads "$threads" 2>/dev/null
rm -rf "$work/index"
$splade index --input "$work/docs.jsonl.gz" --output "$work/index" --quantize f32 >/dev/null 2>&1
$splade search --index "$work/index" --queries "$work/queries.jsonl" --k 1000 --mode exhaustive \
  --output "$work/run.trec" >/dev/null 2>&1
$splade eval --qrels "$data/qrels/test.tsv" --run "$work/run.trec" \
  --metrics ndcg_cut_10,recall_100,mrr_10 | awk -F'\t' '{print $1 "\t" $3}'
$splade stats --docs "$work/docs.jsonl.gz" --queries "$work/queries.jsonl" |
  grep -E '^(flops|docs_nnz_mean|queries_nnz_mean)\b'
