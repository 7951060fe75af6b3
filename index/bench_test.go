package index

import (
	"testing"

	"github.com/splade-go/splade/sparse"
	"github.com/splade-go/splade/synth"
)

// BenchmarkBuild indexes 20,000 synthetic SPLADE++-like documents and
// reports bits per posting (doc gaps + impacts + block directory).
func BenchmarkBuild(b *testing.B) {
	for _, reorder := range []bool{false, true} {
		name := "input-order"
		if reorder {
			name = "bisection"
		}
		b.Run(name, func(b *testing.B) {
			g := synth.New(synth.Options{Docs: 20000, Seed: 1})
			docs := make([]sparse.Record, 20000)
			for i := range docs {
				docs[i] = g.Doc(i)
			}
			var st Stats
			for b.Loop() {
				st = build(b, b.TempDir(), docs, BuildOptions{Reorder: reorder})
			}
			b.ReportMetric(st.BitsPerPost, "bits/posting")
			b.ReportMetric(float64(st.Postings), "postings")
		})
	}
}
