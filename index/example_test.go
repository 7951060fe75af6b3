package index_test

import (
	"fmt"
	"log"
	"os"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/sparse"
)

// ExampleNewBuilder streams documents into a new index generation, the way
// splade index does for files larger than memory, and reads it back.
func ExampleNewBuilder() {
	dir, err := os.MkdirTemp("", "splade-index-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	b, err := index.NewBuilder(dir, index.BuildOptions{Quantize: index.QuantU8, Fingerprint: "my-model-v1"})
	if err != nil {
		log.Fatal(err)
	}
	docs := []sparse.Record{
		{ID: "d1", Vector: sparse.Vector{Terms: []string{"river", "flood"}, Weights: []float32{1.5, 2.0}}},
		{ID: "d2", Vector: sparse.Vector{Terms: []string{"vaccine", "virus"}, Weights: []float32{2.5, 1.0}}},
	}
	for _, d := range docs {
		if err := b.Add(d.ID, d.Vector); err != nil {
			b.Abort()
			log.Fatal(err)
		}
	}
	// Passages of a longer document: searches score it by its best one.
	if err := b.AddPassage("d3#0", "d3", sparse.Vector{Terms: []string{"river"}, Weights: []float32{0.5}}); err != nil {
		log.Fatal(err)
	}
	if err := b.AddPassage("d3#1", "d3", sparse.Vector{Terms: []string{"boat"}, Weights: []float32{1.0}}); err != nil {
		log.Fatal(err)
	}
	st, err := b.Finish() // commits atomically: readers see the old index or the new one
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("entries", st.Docs, "documents", st.Documents, "terms", st.Terms, "postings", st.Postings)

	ix, err := index.Open(dir) // verifies every file's checksum
	if err != nil {
		log.Fatal(err)
	}
	defer ix.Close()
	t, _ := ix.Lookup("river")
	fmt.Println("river is in", ix.DocFreq(t), "entries; fingerprint", ix.Meta.Fingerprint)
	for p := uint32(0); p < uint32(ix.NumDocs()); p++ {
		fmt.Println(ix.DocID(p), "belongs to", ix.DocumentID(ix.DocumentOf(p)))
	}
	// Output:
	// entries 4 documents 3 terms 5 postings 6
	// river is in 2 entries; fingerprint my-model-v1
	// d1 belongs to d1
	// d2 belongs to d2
	// d3#0 belongs to d3
	// d3#1 belongs to d3
}
