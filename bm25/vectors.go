package bm25

import (
	"sort"

	"github.com/splade-go/splade/sparse"
)

// DocVectors calls fn for every document with its BM25 document vector:
// each indexed term weighted by the score it contributes to a query that
// holds it once (Lucene's per-clause BM25 score). The dot product of such a
// vector with QueryVector(query) is the document's BM25 score, so BM25 can
// run on the impact index and query processors built for SPLADE, as
// Anserini's and PISA's impact indexes do. Terms are in byte order.
func (ix *Index) DocVectors(p Params, fn func(id string, v sparse.Vector) error) error {
	s, err := ix.NewSearcher(p)
	if err != nil {
		return err
	}
	// Invert the postings into per-document term lists, one pass per term.
	terms := make([]string, len(ix.postings))
	for t, id := range ix.vocab {
		terms[id] = t
	}
	order := make([]int32, len(terms))
	for i := range order {
		order[i] = int32(i)
	}
	sort.Slice(order, func(a, b int) bool { return terms[order[a]] < terms[order[b]] })
	vecs := make([]sparse.Vector, len(ix.ids))
	for _, t := range order {
		pl := &ix.postings[t]
		w := idf(len(pl.docs), ix.docCount)
		for i, d := range pl.docs {
			score := s.clauseScore(w, pl.freqs[i], d)
			vecs[d].Terms = append(vecs[d].Terms, terms[t])
			vecs[d].Weights = append(vecs[d].Weights, score)
		}
	}
	for d, id := range ix.ids {
		if err := fn(id, vecs[d]); err != nil {
			return err
		}
		vecs[d] = sparse.Vector{}
	}
	return nil
}

// QueryVector analyzes a query and returns its bag of terms: each distinct
// term weighted by its number of occurrences (one BM25 clause each).
func (ix *Index) QueryVector(query string) sparse.Vector {
	counts := map[string]float32{}
	var order []string
	for _, t := range ix.analyzer.AppendTerms(nil, query) {
		if counts[t] == 0 {
			order = append(order, t)
		}
		counts[t]++
	}
	v := sparse.Vector{Terms: order, Weights: make([]float32, len(order))}
	for i, t := range order {
		v.Weights[i] = counts[t]
	}
	return v
}
