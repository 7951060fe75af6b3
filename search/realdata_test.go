package search

import (
	"bufio"
	"compress/gzip"

	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/internal/racedetect"
	"github.com/splade-go/splade/internal/shareddata"
	"github.com/splade-go/splade/sparse"
)

// readEncodings reads Anserini's pre-encoded SPLADE topics: "id<TAB>tokens",
// each wordpiece repeated round(weight x scale) times.
func readEncodings(t *testing.T, path string, scale float32, limit int) []sparse.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(gz)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var recs []sparse.Record
	for sc.Scan() && len(recs) < limit {
		id, toks, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("%s: line without a tab", path)
		}
		counts := map[string]int{}
		var order []string
		for _, tok := range strings.Fields(toks) {
			if counts[tok] == 0 {
				order = append(order, tok)
			}
			counts[tok]++
		}
		var v sparse.Vector
		for _, tok := range order {
			v.Terms = append(v.Terms, tok)
			v.Weights = append(v.Weights, float32(counts[tok])/scale)
		}
		recs = append(recs, sparse.Record{ID: id, Vector: v})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestRealEncodings indexes real SPLADE++ vectors (the Quora test questions
// encoded by SPLADE++ EnsembleDistil serve as documents) and searches them
// with real SPLADE++ encodings of MS MARCO dev queries: every exact mode
// must return exactly the exhaustive results, and exhaustive must match a
// brute-force scan on an unquantized index.
func TestRealEncodings(t *testing.T) {
	dir := shareddata.Require(t, "splade-query-encodings")
	nd, nq := 5000, 80
	if racedetect.Enabled {
		nd, nq = 1500, 20 // the race detector slows this test ten-fold
	}
	docs := readEncodings(t, filepath.Join(dir, "topics.beir-v1.0.0-quora.test.splade-pp-ed.tsv.gz"), 100, nd)
	queries := readEncodings(t, filepath.Join(dir, "topics.msmarco-passage.dev-subset.splade-pp-ed.tsv.gz"), 1000, nq)
	if len(docs) < nd || len(queries) < nq {
		t.Fatalf("only %d docs and %d queries read", len(docs), len(queries))
	}
	for _, q := range []index.Quantization{index.QuantU8, index.QuantF32} {
		ix := buildIndex(t, docs, index.BuildOptions{Quantize: q, Reorder: true, Fingerprint: "splade-pp-ed"})
		s := New(ix)
		for _, k := range []int{10, 100} {
			want, err := s.SearchBatch(queries, Options{K: k, Mode: Exhaustive, Fingerprint: "splade-pp-ed"}, 2, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []Mode{MaxScore, BlockMax} {
				got, err := s.SearchBatch(queries, Options{K: k, Mode: m}, 2, nil)
				if err != nil {
					t.Fatal(err)
				}
				for i := range queries {
					if d := sameHits(got[i], want[i]); d != "" {
						t.Fatalf("%v k=%d %v query %s: %s", q, k, m, queries[i].ID, d)
					}
				}
			}
			if q == index.QuantF32 && k == 10 {
				for i, qr := range queries[:10] {
					bf := bruteForce(ix, docs, qr.Vector, k)
					for j := range bf {
						if want[i][j].ID != bf[j].ID || want[i][j].Score != bf[j].Score {
							t.Fatalf("query %s rank %d: %s %v, brute force %s %v", qr.ID, j+1, want[i][j].ID, want[i][j].Score, bf[j].ID, bf[j].Score)
						}
					}
				}
			}
		}
	}
}

// TestRealEncodingsSeismic: on the same real SPLADE++ vectors, exact
// block-max through the forward index returns the exhaustive results, and
// Seismic search at its defaults finds most of the exact top 10.
func TestRealEncodingsSeismic(t *testing.T) {
	dir := shareddata.Require(t, "splade-query-encodings")
	nd, nq := 5000, 80
	if racedetect.Enabled {
		nd, nq = 1500, 20
	}
	docs := readEncodings(t, filepath.Join(dir, "topics.beir-v1.0.0-quora.test.splade-pp-ed.tsv.gz"), 100, nd)
	queries := readEncodings(t, filepath.Join(dir, "topics.msmarco-passage.dev-subset.splade-pp-ed.tsv.gz"), 1000, nq)
	ix := buildIndex(t, docs, index.BuildOptions{Reorder: true})
	if _, err := ix.WriteSeismic(index.DefaultSeismicOptions); err != nil {
		t.Fatal(err)
	}
	s := New(ix)
	want, err := s.SearchBatch(queries, Options{K: 10, Mode: Exhaustive}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func(f bool) { ForwardFinish = f }(ForwardFinish)
	ForwardFinish = true
	got, err := s.SearchBatch(queries, Options{K: 10, Mode: BlockMax}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range queries {
		if d := sameHits(got[i], want[i]); d != "" {
			t.Fatalf("block-max with the forward index, query %s: %s", queries[i].ID, d)
		}
	}
	got, err = s.SearchBatch(queries, Options{K: 10, Mode: Seismic}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := Recall(got, want)
	t.Logf("seismic recall@10 %.4f on %d real queries over %d real documents", rec, nq, nd)
	if rec < 0.9 {
		t.Fatalf("seismic recall@10 %.4f", rec)
	}
}
