package index

import (
	"math/rand/v2"
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

// BenchmarkDot scores 4,096 documents of 130 random terms against a dense
// query over the BERT vocabulary, as Seismic search scores the documents
// of a visited block: the vector dot product against the portable loop.
func BenchmarkDot(b *testing.B) {
	const nt, n, docs = 30522, 130, 4096
	r := rand.New(rand.NewPCG(1, 2))
	qw := make([]float32, nt)
	for i := 0; i < 45; i++ {
		qw[r.IntN(nt)] = r.Float32()
	}
	terms, vals := make([]uint16, n*docs), make([]uint8, n*docs)
	for i := range terms {
		terms[i], vals[i] = uint16(r.IntN(nt)), uint8(r.IntN(256))
	}
	for _, vec := range []bool{true, false} {
		name := "portable"
		if vec {
			name = "vector"
			if !useDotAVX2 {
				continue
			}
		}
		b.Run(name, func(b *testing.B) {
			saved := useDotAVX2
			useDotAVX2 = vec
			defer func() { useDotAVX2 = saved }()
			var s float32
			for b.Loop() {
				for d := 0; d < docs; d++ {
					s += dot(qw, terms[d*n:(d+1)*n], vals[d*n:(d+1)*n], nt)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*docs), "ns/doc")
			sink = s
		})
	}
}

var sink float32
