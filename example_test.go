package splade_test

import (
	"fmt"
	"log"
	"os"

	"github.com/splade-go/splade/eval"
	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/model"
	"github.com/splade-go/splade/search"
	"github.com/splade-go/splade/sparse"
)

// Example runs the whole pipeline: encode documents and a query with a
// SPLADE checkpoint, index the document vectors, search, and evaluate the
// ranking. The checkpoint here is the repository's tiny test model, whose
// weights are random (the ranking means nothing); a trained one such as
// naver/splade-v3, downloaded in the Hugging Face layout, is used the same
// way.
func Example() {
	m, tok, err := model.LoadWithTokenizer("model/testdata/bert")
	if err != nil {
		log.Fatal(err)
	}
	docEnc, err := model.NewEncoder(m, tok, model.Options{MaxLength: model.DefaultDocLength})
	if err != nil {
		log.Fatal(err)
	}
	ids := []string{"d1", "d2", "d3"}
	vecs, err := docEnc.Encode([]string{
		"The river floods the valley every spring.",
		"Vaccines train the immune system to recognize a virus.",
		"A school library lends books to students.",
	})
	if err != nil {
		log.Fatal(err)
	}
	recs := make([]sparse.Record, len(ids))
	for i, id := range ids {
		recs[i] = sparse.Record{ID: id, Vector: vecs[i]}
	}

	dir, err := os.MkdirTemp("", "splade-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := index.Build(dir, recs, index.BuildOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("indexed", st.Docs, "documents")
	ix, err := index.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer ix.Close()

	// Queries are encoded the same way, with the query length.
	qEnc, err := model.NewEncoder(m, tok, model.Options{MaxLength: model.DefaultQueryLength})
	if err != nil {
		log.Fatal(err)
	}
	q, err := qEnc.Encode([]string{"how do vaccines work?"})
	if err != nil {
		log.Fatal(err)
	}
	hits, err := search.New(ix).Search(q[0], search.Options{K: 2, Mode: search.BlockMax})
	if err != nil {
		log.Fatal(err)
	}
	run := eval.Run{}
	for _, h := range hits {
		fmt.Printf("%s %.0f\n", h.ID, h.Score)
		run["q1"] = append(run["q1"], eval.Result{DocID: h.ID, Score: h.Score})
	}

	qrels := eval.Qrels{"q1": {"d2": 1}}
	rep, err := eval.Evaluate(qrels, run, []string{"ndcg_cut_10", "recall_100"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("nDCG@10 %.2f, Recall@100 %.2f\n", rep.Mean["ndcg_cut_10"], rep.Mean["recall_100"])
	// Output:
	// indexed 3 documents
	// d2 23
	// d1 21
	// nDCG@10 1.00, Recall@100 1.00
}
