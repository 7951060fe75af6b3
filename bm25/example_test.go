package bm25_test

import (
	"fmt"
	"log"

	"github.com/splade-go/splade/bm25"
	"github.com/splade-go/splade/sparse"
)

func ExampleBuilder() {
	b := bm25.NewBuilder(nil) // Anserini's English analyzer
	for _, d := range []struct{ id, text string }{
		{"d1", "The river floods the valley every spring."},
		{"d2", "Flooding rivers and flooded roads."},
		{"d3", "A school library lends books."},
	} {
		if err := b.Add(d.id, d.text); err != nil {
			log.Fatal(err)
		}
	}
	ix := b.Build()
	s, err := ix.NewSearcher(bm25.AnseriniParams)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range s.Search("river flood", 10) {
		fmt.Printf("%s %.4f\n", r.DocID, r.Score)
	}
	// The same scores as a dot product of impact vectors, which is how
	// BM25 runs through package index and search.
	q := ix.QueryVector("river flood")
	err = ix.DocVectors(bm25.AnseriniParams, func(id string, v sparse.Vector) error {
		fmt.Printf("%s %.4f\n", id, sparse.Dot(q, v))
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// d2 0.5783
	// d1 0.4807
	// d1 0.4807
	// d2 0.5783
	// d3 0.0000
}
