#!/usr/bin/env bash
# The lambda study of TRAINING.md (the SPLADE paper's Figure 1 on SciFact):
# for each lambda, the ranking stage from the same lexical warm start, then
# evaluation on the test split (scripts/study/evaluate.sh); writes
# OUT/points.tsv and OUT/figure1.svg.
#
#   scripts/study/lambda_sweep.sh INIT_DIR OUT_DIR [LAMBDA ...]
#
# INIT_DIR is the warm-start checkpoint (TRAINING.md, stage 3). Runs that
# finished (OUT/lambda-X/done) are not trained again, nor evaluated again
# when OUT/lambda-X/test.tsv exists. Training stops after PATIENCE (2)
# dev evaluations without improvement.
set -euo pipefail
init=$1
out=$2
shift 2
lambdas=("$@")
[ ${#lambdas[@]} -gt 0 ] || lambdas=(1e-3 1e-2 1e-1 1 10)
data=${DATA:-../shared/data/beir/scifact}
splade=${SPLADE:-"go run ./cmd/splade"}
steps=${STEPS:-1000}
patience=${PATIENCE:-2}
mkdir -p "$out"
[ -f "$out/pseudo.tsv.gz" ] || $splade pseudo-triples --corpus "$data/corpus.jsonl.gz" \
  --kinds title,sentence --sentences-per-doc 2 --output "$out/pseudo.tsv.gz"
printf 'label\tlambda_d\tlambda_q\tndcg_cut_10\trecall_100\tmrr_10\tflops\tdocs_nnz_mean\tqueries_nnz_mean\n' > "$out/points.tsv"
for l in "${lambdas[@]}"; do
  run="$out/lambda-$l"
  if [ ! -f "$run/done" ]; then
    $splade train --init "$init" --corpus "$data/corpus.jsonl.gz" --queries "$data/queries.jsonl" \
      --qrels "$data/qrels/train.tsv" --triples "$out/pseudo.tsv.gz" --triples-share 0.5 \
      --rank-weight 1 --lexical-weight 0.2 --lambda-q "$l" --lambda-d "$l" --reg flops --ramp-steps 300 \
      --steps "$steps" --batch 16 --lr 3e-4 --warmup 50 --query-length 64 --doc-length 512 \
      --eval-every 200 --eval-docs 1500 --patience "$patience" --threads 2 --output "$run" 2> "$run.log"
    touch "$run/done"
  fi
  if [ ! -s "$run/test.tsv" ]; then
    SPLADE="$splade" scripts/study/evaluate.sh "$run/best" "$data" 512 "$run/eval" > "$run/test.tsv.tmp"
    mv "$run/test.tsv.tmp" "$run/test.tsv"
  fi
  get() { awk -F'\t' -v k="$1" '$1 == k {print $2}' "$run/test.tsv"; }
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$l" "$l" "$l" "$(get ndcg_cut_10)" "$(get recall_100)" \
    "$(get mrr_10)" "$(get flops)" "$(get docs_nnz_mean)" "$(get queries_nnz_mean)" >> "$out/points.tsv"
done
$splade plot-tradeoff --points "$out/points.tsv" --baseline "BM25 (Anserini)=0.6789" \
  --baseline "SPLADE++ (published, MS MARCO)=0.7041" --title "SciFact test: lambda_q = lambda_d" \
  --output "$out/figure1.svg"
cat "$out/points.tsv"
