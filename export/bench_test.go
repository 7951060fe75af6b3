package export

import (
	"fmt"
	"io"
	"testing"

	"github.com/splade-go/splade/sparse"
)

// benchRecord is a SPLADE-sized document: 200 WordPiece-like terms.
func benchRecord() (sparse.Record, *Vocab) {
	var rec sparse.Record
	rec.ID = "msmarco-passage-1234567"
	vocab := &Vocab{ids: map[string]uint32{}}
	for i := 0; i < 200; i++ {
		t := fmt.Sprintf("term%d", i)
		if i%50 == 0 {
			t = "##." + t
		}
		rec.Vector.Terms = append(rec.Vector.Terms, t)
		rec.Vector.Weights = append(rec.Vector.Weights, 0.01+float32(i%97)/31)
		vocab.ids[t] = uint32(30000 - 7*i)
	}
	vocab.Size = 30522
	return rec, vocab
}

func BenchmarkBulkWriter(b *testing.B) {
	rec, _ := benchRecord()
	bw, _ := NewBulkWriter(io.Discard, OpenSearchOptions{Index: "msmarco", Field: "splade"})
	b.ReportAllocs()
	for b.Loop() {
		if err := bw.Write(rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}

func BenchmarkQdrantWriter(b *testing.B) {
	rec, vocab := benchRecord()
	qw, _ := NewQdrantWriter(io.Discard, vocab, "splade", 0)
	b.ReportAllocs()
	for b.Loop() {
		if err := qw.Write(rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}
