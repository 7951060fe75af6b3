package model

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/splade-go/splade/internal/cputime"
	"github.com/splade-go/splade/kernels"
)

// DistilBERTBase is the shape of distilbert-base-uncased (and of naver's
// DistilSPLADE models).
var DistilBERTBase = Config{Arch: DistilBERT, Hidden: 768, Layers: 6, Heads: 12, Intermediate: 3072,
	Vocab: 30522, MaxPositions: 512, LayerNormEps: 1e-12, TiedDecoder: true}

func randomIDs(r *rand.Rand, n, length, vocab int) [][]int32 {
	out := make([][]int32, n)
	for i := range out {
		ids := make([]int32, length)
		for j := range ids {
			ids[j] = int32(r.IntN(vocab))
		}
		out[i] = ids
	}
	return out
}

// BenchmarkEncode measures the encoder on a DistilBERT-size model with two
// threads: documents (16 texts of 128 tokens per op; docs/s reported) and
// the latency of one 16-token query.
func BenchmarkEncode(b *testing.B) {
	m, err := NewRandom(DistilBERTBase, 1)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, bc := range []struct {
		name   string
		n, len int
	}{{"docs-16x128", 16, 128}, {"query-16", 1, 16}} {
		b.Run(bc.name+"/"+kernels.Path(), func(b *testing.B) {
			e, err := NewEncoder(m, nil, Options{Threads: 2})
			if err != nil {
				b.Fatal(err)
			}
			batch := randomIDs(r, bc.n, bc.len, m.Config.Vocab)
			if _, err := e.EncodeIDs(batch); err != nil { // warm the buffers
				b.Fatal(err)
			}
			c0 := cputime.Seconds()
			for b.Loop() {
				if _, err := e.EncodeIDs(batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(bc.n*b.N)/b.Elapsed().Seconds(), "texts/s")
			if c := cputime.Seconds() - c0; c > 0 {
				// Per CPU-second of both threads: steadier than wall time
				// on a shared machine.
				b.ReportMetric(float64(bc.n*b.N)/c, "texts/cpu-s")
			}
		})
	}
}

// TestRandomModel: NewRandom gives a working model whose vectors are
// sparse but not empty, and the same vectors for the same seed.
func TestRandomModel(t *testing.T) {
	cfg := Config{Arch: BERT, Hidden: 32, Layers: 2, Heads: 4, Intermediate: 64, Vocab: 2000, MaxPositions: 64,
		TypeVocab: 2, LayerNormEps: 1e-12, TiedDecoder: true}
	m1, err := NewRandom(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	m2, _ := NewRandom(cfg, 3)
	ids := randomIDs(rand.New(rand.NewPCG(3, 4)), 3, 20, 2000)
	var ws [2][]Weights
	for i, m := range []*Model{m1, m2} {
		e, err := NewEncoder(m, nil, Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		if ws[i], err = e.EncodeIDs(ids); err != nil {
			t.Fatal(err)
		}
	}
	for s := range ids {
		n := len(ws[0][s].IDs)
		if n < cfg.Vocab/100 || n > cfg.Vocab/2 {
			t.Errorf("text %d: %d of %d terms active, want a sparse but non-trivial vector", s, n, cfg.Vocab)
		}
		if len(ws[1][s].IDs) != n {
			t.Fatalf("same seed, different vectors")
		}
		for i := range ws[0][s].Values {
			if ws[0][s].Values[i] != ws[1][s].Values[i] {
				t.Fatalf("same seed, different vectors")
			}
		}
	}
}

// TestEncoderOptions: top-k and threshold select the heaviest terms, and
// bad input is an error.
func TestEncoderOptions(t *testing.T) {
	cfg := Config{Arch: DistilBERT, Hidden: 16, Layers: 1, Heads: 2, Intermediate: 32, Vocab: 500, MaxPositions: 16,
		LayerNormEps: 1e-12, TiedDecoder: true}
	m, err := NewRandom(cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	ids := randomIDs(rand.New(rand.NewPCG(5, 6)), 2, 10, 500)
	all, _ := NewEncoder(m, nil, Options{})
	full, err := all.EncodeIDs(ids)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		topK      int
		threshold float32
	}{{"top 5", 5, 0}, {"threshold 0.1", 0, 0.1}, {"both", 3, 0.05}, {"k above count", 100000, 0}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := NewEncoder(m, nil, Options{TopK: tc.topK, Threshold: tc.threshold})
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.EncodeIDs(ids)
			if err != nil {
				t.Fatal(err)
			}
			for s := range ids {
				// reference: sort the full vector by weight, cut.
				v := e.Vector(full[s])
				v.TopK(tc.topK, tc.threshold)
				w := e.Vector(got[s])
				if len(w.Terms) != len(v.Terms) {
					t.Fatalf("text %d: %d terms, want %d", s, len(w.Terms), len(v.Terms))
				}
				for i := range v.Terms {
					if v.Terms[i] != w.Terms[i] || v.Weights[i] != w.Weights[i] {
						t.Fatalf("text %d entry %d: %s=%g, want %s=%g", s, i, w.Terms[i], w.Weights[i], v.Terms[i], v.Weights[i])
					}
				}
			}
		})
	}
	for _, bad := range []struct {
		name string
		ids  [][]int32
	}{{"id too large", [][]int32{{101, 500, 102}}}, {"negative id", [][]int32{{-1}}}, {"too long", [][]int32{make([]int32, 17)}}} {
		if _, err := all.EncodeIDs(bad.ids); err == nil {
			t.Errorf("%s: no error", bad.name)
		}
	}
	if _, err := NewEncoder(m, nil, Options{TopK: -1}); err == nil {
		t.Error("negative top-k accepted")
	}
}

// TestConcurrentEncode: goroutines sharing one Encoder get the results of
// a single caller.
func TestConcurrentEncode(t *testing.T) {
	cfg := Config{Arch: BERT, Hidden: 16, Layers: 1, Heads: 2, Intermediate: 32, Vocab: 300, MaxPositions: 32,
		TypeVocab: 2, LayerNormEps: 1e-12, TiedDecoder: true}
	m, err := NewRandom(cfg, 9)
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEncoder(m, nil, Options{Threads: 2, BatchTokens: 40})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 9))
	inputs := make([][][]int32, 4)
	want := make([][]Weights, len(inputs))
	for i := range inputs {
		inputs[i] = randomIDs(r, 5, 5+7*i, cfg.Vocab)
		if want[i], err = e.EncodeIDs(inputs[i]); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, len(inputs))
	for i := range inputs {
		go func() {
			for range 5 {
				got, err := e.EncodeIDs(inputs[i])
				if err != nil {
					errs <- err
					return
				}
				for s := range got {
					if !slices.Equal(got[s].IDs, want[i][s].IDs) || !slices.Equal(got[s].Values, want[i][s].Values) {
						errs <- fmt.Errorf("input %d text %d: concurrent result differs", i, s)
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range inputs {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// BenchmarkQueryAfterIdle times one 16-token query on a DistilBERT-size
// model, two threads, 0.25 s after the previous one, with the caller and
// the workers pinned to CPUs of their own (kernels.Pool.Pin) and without
// (SPLADE_PIN_THREADS=0), alternating; it reports the median ms of each.
// Queries timed back to back hide what a server sees between requests.
//
//	go test ./model -run '^$' -bench QueryAfterIdle -benchtime 20x
func BenchmarkQueryAfterIdle(b *testing.B) {
	query, pinned, unpinned := pinnedAndNot(b)
	encs := []*Encoder{pinned, unpinned}
	ms := make([][]float64, len(encs))
	for _, e := range encs { // warm the buffers
		if _, err := e.EncodeIDs(query); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		for i, e := range encs {
			b.StopTimer()
			time.Sleep(250 * time.Millisecond)
			b.StartTimer()
			start := time.Now()
			if _, err := e.EncodeIDs(query); err != nil {
				b.Fatal(err)
			}
			ms[i] = append(ms[i], float64(time.Since(start).Microseconds())/1000)
		}
	}
	reportPinnedMedians(b, ms, "ms")
}

// BenchmarkConcurrentQueries runs 16-token queries from 8 goroutines at
// once on one two-thread encoder, with pinning (kernels.Pool.Pin) and
// without, alternating, and reports the queries per second of each: Pin
// must not cost a server that encodes concurrent requests.
//
//	go test ./model -run '^$' -bench ConcurrentQueries -benchtime 5x
func BenchmarkConcurrentQueries(b *testing.B) {
	query, pinned, unpinned := pinnedAndNot(b)
	const callers, each = 8, 25
	qps := make([][]float64, 2)
	for b.Loop() {
		for i, e := range []*Encoder{pinned, unpinned} {
			start := time.Now()
			var wg sync.WaitGroup
			for range callers {
				wg.Go(func() {
					for range each {
						if _, err := e.EncodeIDs(query); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			qps[i] = append(qps[i], callers*each/time.Since(start).Seconds())
		}
	}
	reportPinnedMedians(b, qps, "queries/s")
}

// pinnedAndNot returns a 16-token query and two two-thread encoders of one
// DistilBERT-size model, the first with kernels.Pool pinning, the second
// without (SPLADE_PIN_THREADS=0 when its pool is made).
func pinnedAndNot(b *testing.B) (query [][]int32, pinned, unpinned *Encoder) {
	m, err := NewRandom(DistilBERTBase, 1)
	if err != nil {
		b.Fatal(err)
	}
	query = randomIDs(rand.New(rand.NewPCG(1, 2)), 1, 16, m.Config.Vocab)
	encoder := func(pin string) *Encoder {
		b.Setenv("SPLADE_PIN_THREADS", pin)
		e, err := NewEncoder(m, nil, Options{Threads: 2})
		if err != nil {
			b.Fatal(err)
		}
		return e
	}
	return query, encoder(""), encoder("0")
}

// reportPinnedMedians reports the medians of the pinned (vals[0]) and
// unpinned (vals[1]) samples.
func reportPinnedMedians(b *testing.B, vals [][]float64, unit string) {
	for i, name := range []string{"pinned", "unpinned"} {
		slices.Sort(vals[i])
		b.ReportMetric(vals[i][len(vals[i])/2], name+"-"+unit)
	}
}
