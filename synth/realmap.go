package synth

import (
	"bufio"
	"cmp"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/splade-go/splade/sparse"
)

// MapByRank maps vectors over another vocabulary (real SPLADE query
// encodings, whose terms are WordPiece tokens) onto the generator's terms,
// so that real query shapes (their number of terms, weights and how
// queries share terms) can be run against a synthetic collection. Tokens
// are ranked by the number of vectors holding them (ties by token), and the
// token of rank i becomes the synthetic term of popularity rank i: the
// tokens most queries share land on the head of near-ubiquitous expansion
// terms, rare tokens on rare terms. Tokens beyond the vocabulary size are
// dropped. The mapping is deterministic and depends only on vecs.
func (g *Generator) MapByRank(vecs []sparse.Vector) []sparse.Vector {
	df := map[string]int{}
	for _, v := range vecs {
		for _, t := range v.Terms {
			df[t]++
		}
	}
	toks := make([]string, 0, len(df))
	for t := range df {
		toks = append(toks, t)
	}
	slices.SortFunc(toks, func(a, b string) int {
		if c := cmp.Compare(df[b], df[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	name := make(map[string]string, len(toks))
	for i, t := range toks[:min(len(toks), len(g.rankToID))] {
		name[t] = g.names[g.rankToID[i]]
	}
	out := make([]sparse.Vector, len(vecs))
	for i, v := range vecs {
		var m sparse.Vector
		for j, t := range v.Terms {
			if s, ok := name[t]; ok {
				m.Terms = append(m.Terms, s)
				m.Weights = append(m.Weights, v.Weights[j])
			}
		}
		// sparse vectors keep their terms in order
		idx := make([]int, len(m.Terms))
		for k := range idx {
			idx[k] = k
		}
		slices.SortFunc(idx, func(a, b int) int { return strings.Compare(m.Terms[a], m.Terms[b]) })
		sorted := sparse.Vector{Terms: make([]string, len(idx)), Weights: make([]float32, len(idx))}
		for k, x := range idx {
			sorted.Terms[k], sorted.Weights[k] = m.Terms[x], m.Weights[x]
		}
		out[i] = sorted
	}
	return out
}

// ReadEncodings reads pre-encoded query vectors in Anserini's form, one
// "id<TAB>tokens" line each, every token repeated round(weight x scale)
// times (the splade-query-encodings files; gzip is detected by the .gz
// suffix). At most limit vectors are read (all when limit <= 0). Errors
// name the file and line.
func ReadEncodings(path string, scale float64, limit int) ([]sparse.Record, error) {
	if !(scale > 0) || math.IsInf(scale, 0) {
		return nil, fmt.Errorf("%s: scale %v must be positive", path, scale)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	var recs []sparse.Record
	for line := 1; sc.Scan() && (limit <= 0 || len(recs) < limit); line++ {
		id, toks, ok := strings.Cut(sc.Text(), "\t")
		if !ok || id == "" {
			return nil, fmt.Errorf("%s:%d: want id<TAB>tokens", path, line)
		}
		count := map[string]int{}
		for toks != "" {
			var t string
			t, toks, _ = strings.Cut(toks, " ")
			if t != "" {
				count[t]++
			}
		}
		v := sparse.Vector{Terms: make([]string, 0, len(count))}
		for t := range count {
			v.Terms = append(v.Terms, t)
		}
		slices.Sort(v.Terms)
		for _, t := range v.Terms {
			v.Weights = append(v.Weights, float32(float64(count[t])/scale))
		}
		recs = append(recs, sparse.Record{ID: id, Vector: v})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return recs, nil
}
