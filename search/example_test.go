package search_test

import (
	"fmt"
	"log"
	"os"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/search"
	"github.com/splade-go/splade/sparse"
)

// vec builds a sparse vector from alternating terms and weights.
func vec(tw ...any) sparse.Vector {
	var v sparse.Vector
	for i := 0; i < len(tw); i += 2 {
		v.Terms = append(v.Terms, tw[i].(string))
		v.Weights = append(v.Weights, float32(tw[i+1].(float64)))
	}
	return v
}

// build indexes recs in a temporary directory; the caller removes dir.
func build(recs []sparse.Record) (ix *index.Index, dir string) {
	dir, err := os.MkdirTemp("", "splade-example-")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := index.Build(dir, recs, index.BuildOptions{Quantize: index.QuantF32}); err != nil {
		log.Fatal(err)
	}
	if ix, err = index.Open(dir); err != nil {
		log.Fatal(err)
	}
	return ix, dir
}

func ExampleSearcher_Search() {
	ix, dir := build([]sparse.Record{
		{ID: "d1", Vector: vec("river", 1.5, "flood", 2.0, "valley", 0.5)},
		{ID: "d2", Vector: vec("vaccine", 2.5, "virus", 1.0, "immune", 1.25)},
		{ID: "d3", Vector: vec("river", 0.5, "boat", 1.0)},
	})
	defer os.RemoveAll(dir)
	defer ix.Close()

	// The score is the dot product of query and document weights.
	q := vec("river", 1.0, "flood", 0.5, "unknown-term", 3.0)
	hits, err := search.New(ix).Search(q, search.Options{K: 10, Mode: search.BlockMax})
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hits {
		fmt.Printf("%s %.2f\n", h.ID, h.Score)
	}
	// Output:
	// d1 2.50
	// d3 0.50
}

// On an index of passages (records with a Doc, as splade encode --chunk
// writes them) a search returns documents, each scored by its best passage
// (MaxP): k documents, not k passages.
func ExampleSearcher_Search_passages() {
	ix, dir := build([]sparse.Record{
		{ID: "long#0", Doc: "long", Vector: vec("history", 1.0, "city", 0.5)},
		{ID: "long#1", Doc: "long", Vector: vec("railway", 2.0, "city", 1.0)},
		{ID: "long#2", Doc: "long", Vector: vec("railway", 1.5, "station", 1.0)},
		{ID: "short#0", Doc: "short", Vector: vec("railway", 1.0, "bus", 1.0)},
		{ID: "other#0", Doc: "other", Vector: vec("music", 2.0)},
	})
	defer os.RemoveAll(dir)
	defer ix.Close()
	fmt.Println(ix.NumDocs(), "passages of", ix.NumDocuments(), "documents")

	s := search.New(ix)
	q := vec("railway", 1.0, "city", 1.0)
	hits, err := s.Search(q, search.Options{K: 2, Mode: search.BlockMax})
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hits {
		fmt.Printf("%s %.2f (best passage %s)\n", h.ID, h.Score, h.Passage)
	}
	// Options.Passages ranks the passages themselves.
	hits, err = s.Search(q, search.Options{K: 3, Mode: search.BlockMax, Passages: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hits {
		fmt.Printf("passage %s %.2f\n", h.ID, h.Score)
	}
	// Output:
	// 5 passages of 3 documents
	// long 3.00 (best passage long#1)
	// short 1.00 (best passage short#0)
	// passage long#1 3.00
	// passage long#2 1.50
	// passage short#0 1.00
}
