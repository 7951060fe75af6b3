package sparse_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/splade-go/splade/sparse"
)

func ExampleWriter() {
	w := sparse.NewWriter(os.Stdout)
	v := sparse.Vector{Terms: []string{"river", "##s", "flood"}, Weights: []float32{1.5, 0.25, 2}}
	v.TopK(2, 0) // keep the two heaviest terms
	if err := w.Write(sparse.Record{ID: "d1", Vector: v}); err != nil {
		log.Fatal(err)
	}
	// a passage of a longer document
	if err := w.Write(sparse.Record{ID: sparse.PassageID("d2", 0), Doc: "d2", Vector: v}); err != nil {
		log.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// {"id": "d1", "contents": "", "vector": {"flood": 2, "river": 1.5}}
	// {"id": "d2#0", "doc": "d2", "contents": "", "vector": {"flood": 2, "river": 1.5}}
}

func ExampleReader() {
	in := `{"id": "d1", "vector": {"river": 1.5, "flood": 2}}
{"id": "d1#0", "doc": "d1", "vector": {"river": 1}}
{"id": "d2", "vector": {"river": "heavy"}}
`
	r := sparse.NewReader(strings.NewReader(in), "vectors.jsonl")
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err) // names the file and line
			break
		}
		fmt.Println(rec.ID, rec.Doc, rec.Vector.Terms, rec.Vector.Weights)
	}
	// Output:
	// d1  [river flood] [1.5 2]
	// d1#0 d1 [river] [1]
	// vectors.jsonl:3: record "d2": weight of term "river" is not a number
}

func ExampleDot() {
	q := sparse.Vector{Terms: []string{"river", "flood"}, Weights: []float32{1, 0.5}}
	d := sparse.Vector{Terms: []string{"flood", "valley", "river"}, Weights: []float32{2, 1, 1.5}}
	fmt.Println(sparse.Dot(q, d))
	// Output: 2.5
}
