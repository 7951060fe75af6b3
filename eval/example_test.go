package eval_test

import (
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/splade-go/splade/eval"
)

func ExampleEvaluate() {
	// Judgments in BEIR's TSV form (TREC's "qid 0 docid rel" works too).
	qrels, err := eval.ParseQrels(strings.NewReader("query-id\tcorpus-id\tscore\nq1\td2\t1\nq1\td4\t2\nq2\td1\t1\n"), "qrels.tsv")
	if err != nil {
		log.Fatal(err)
	}
	run, err := eval.ParseRun(strings.NewReader(`q1 Q0 d4 1 9.5 splade
q1 Q0 d3 2 8.0 splade
q1 Q0 d2 3 7.5 splade
q2 Q0 d5 1 3.0 splade
q2 Q0 d1 2 2.0 splade
`), "run.trec")
	if err != nil {
		log.Fatal(err)
	}
	rep, err := eval.Evaluate(qrels, run, []string{"ndcg_cut_10", "recip_rank", "recall_100"})
	if err != nil {
		log.Fatal(err)
	}
	for _, q := range rep.Queries() {
		fmt.Printf("%s nDCG@10 %.4f\n", q, rep.PerQuery[q]["ndcg_cut_10"])
	}
	// trec_eval's output format
	if err := rep.WriteTREC(os.Stdout, false); err != nil {
		log.Fatal(err)
	}
	// Output:
	// q1 nDCG@10 0.9502
	// q2 nDCG@10 0.6309
	// ndcg_cut_10	all	0.7906
	// recip_rank	all	0.7500
	// recall_100	all	1.0000
}
