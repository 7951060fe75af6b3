package main

import (
	"log/slog"
	"os"
	"strings"

	"github.com/splade-go/splade/eval"
)

func init() {
	register(command{name: "eval", summary: "score a run against relevance judgments (trec_eval compatible)", run: runEval})
}

const evalHelp = `Scores a TREC run file (qid Q0 docid rank score tag) against qrels in TREC
form (qid 0 docid rel) or BEIR TSV form (query-id corpus-id score), exactly as
trec_eval does: results re-sorted by score (float32) with ties broken by
descending docid, the rank column ignored, and the mean taken over queries
that are both judged and in the run (--complete: over all judged queries, as
trec_eval -c). Output lines are metric<TAB>all<TAB>value with 4 decimals.

Metrics: ndcg_cut_K, recall_K, P_K, map, map_cut_K, recip_rank, mrr_K (MRR@K).

Examples:
  splade eval --qrels ../shared/data/beir/scifact/qrels/test.tsv --run bm25.trec
  splade eval --qrels qrels.dev.tsv --run run.trec --metrics mrr_10,recall_1000
  splade eval --qrels qrels.dl19.txt --run run.trec --per-query --complete`

func runEval(args []string) error {
	fs := newFlags("eval", "--qrels FILE --run FILE [flags]", evalHelp)
	qrelsPath := fs.String("qrels", "", "relevance judgments (TREC or BEIR TSV; .gz ok)")
	runPath := fs.String("run", "", "run file in TREC form (.gz ok)")
	metrics := fs.String("metrics", strings.Join(eval.DefaultMetrics, ","), "comma-separated metrics")
	perQuery := fs.Bool("per-query", false, "also print each query's values (trec_eval -q)")
	complete := fs.Bool("complete", false, "average over all judged queries, 0 for those missing from the run (trec_eval -c)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *qrelsPath == "" || *runPath == "" {
		return usagef("--qrels and --run are required (see splade eval -h)")
	}
	var names []string
	for _, m := range strings.Split(*metrics, ",") {
		if m = strings.TrimSpace(m); m != "" {
			names = append(names, m)
		}
	}
	names, err := eval.CanonicalMetrics(names)
	if err != nil {
		return usagef("--metrics: %v", err)
	}
	qrels, err := eval.ReadQrels(*qrelsPath)
	if err != nil {
		return err
	}
	run, err := eval.ReadRun(*runPath)
	if err != nil {
		return err
	}
	rep, err := eval.EvaluateWith(qrels, run, names, eval.Options{Complete: *complete})
	if err != nil {
		return err
	}
	if rep.RunOnly > 0 || rep.QrelsOnly > 0 {
		slog.Info("query coverage", "evaluated", rep.NumQueries,
			"run_queries_without_judgments", rep.RunOnly, "judged_queries_missing_from_run", rep.QrelsOnly,
			"complete", *complete)
	}
	return rep.WriteTREC(os.Stdout, *perQuery)
}
