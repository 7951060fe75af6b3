package serve

import (
	"slices"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/search"
	"github.com/splade-go/splade/sparse"
)

// prepared is a query vector in the index's term space: the terms the index
// knows, by increasing term id, repeated terms summed in input order (as
// package search does, so that the scores here equal the searcher's).
type prepared struct {
	ids       []uint32
	weights   []float32
	expansion []bool
}

// prepare maps v onto the index and describes it for the response.
func (sn *snapshot) prepare(v sparse.Vector, tokens map[string]bool) (prepared, QueryInfo) {
	sum := map[uint32]float32{}
	var order []uint32
	info := QueryInfo{UnknownTerms: []string{}}
	merged := sparse.Vector{}
	pos := map[string]int{}
	for i, term := range v.Terms {
		w := v.Weights[i]
		if w == 0 {
			continue
		}
		if j, ok := pos[term]; ok {
			merged.Weights[j] += w
		} else {
			pos[term] = len(merged.Terms)
			merged.Terms = append(merged.Terms, term)
			merged.Weights = append(merged.Weights, w)
		}
		t, ok := sn.ix.Lookup(term)
		if !ok {
			if !slices.Contains(info.UnknownTerms, term) {
				info.UnknownTerms = append(info.UnknownTerms, term)
			}
			continue
		}
		if _, seen := sum[t]; !seen {
			order = append(order, t)
		}
		sum[t] += w
	}
	p := prepared{ids: order, weights: make([]float32, len(order)), expansion: make([]bool, len(order))}
	for i, t := range order {
		p.weights[i] = sum[t]
	}
	search.SortTerms(sn.ix, p.ids, p.weights)
	for i, t := range p.ids {
		p.expansion[i] = tokens != nil && !tokens[sn.ix.Term(t)]
	}
	info.Terms = termWeights(merged, tokens, 0)
	return p, info
}

// impacts returns, for each document of docs (sorted, distinct), the impact
// of each query term in it (0 when absent): a seek in each query term's
// posting list per document. Matched terms are exactly the query terms
// present in the document, so this is all an explanation needs from the
// index.
func (sn *snapshot) impacts(q prepared, docs []uint32) [][]float32 {
	out := make([][]float32, len(docs))
	for i := range out {
		out[i] = make([]float32, len(q.ids))
	}
	var c index.Cursor
	for j, t := range q.ids {
		c.Open(sn.ix, t)
		for i, d := range docs {
			c.NextGEQ(d)
			if c.Doc() == index.End {
				break
			}
			if c.Doc() == d {
				out[i][j] = c.Impact()
			}
		}
	}
	return out
}

// scoreDocs scores the given documents exactly and returns the k best of
// those that share a term with the query, best first, ties by internal id.
// Products are added in float64 in the searcher's order (search.SortTerms),
// so a document's score is bit-identical to the searcher's.
func (sn *snapshot) scoreDocs(q prepared, docs []uint32, k int) []search.Hit {
	imps := sn.impacts(q, docs)
	scale := sn.ix.Scale()
	var hits []search.Hit
	for i, d := range docs {
		var acc float64
		matched := false
		for j, imp := range imps[i] {
			if imp != 0 {
				matched = true
				acc += float64(q.weights[j]) * float64(imp)
			}
		}
		if matched {
			hits = append(hits, search.Hit{Doc: d, ID: sn.ix.DocID(d), Score: acc * scale})
		}
	}
	slices.SortFunc(hits, func(a, b search.Hit) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		case a.Doc < b.Doc:
			return -1
		case a.Doc > b.Doc:
			return 1
		}
		return 0
	})
	if len(hits) > k {
		hits = hits[:k]
	}
	return hits
}

// explainDoc lists the query terms found in document d (on a passage
// index, passage d of document id) with their contributions, and its
// heaviest terms when its vector is held.
func (s *Server) explainDoc(sn *snapshot, q prepared, d uint32, id string) Explanation {
	imps := sn.impacts(q, []uint32{d})[0]
	scale := sn.ix.Scale()
	docTokens := s.tokenSet(s.docs.text(id))
	e := Explanation{Matched: []Match{}}
	for j, imp := range imps {
		if imp == 0 {
			continue
		}
		term := sn.ix.Term(q.ids[j])
		e.Matched = append(e.Matched, Match{
			Term: term, QueryWeight: float64(q.weights[j]), DocWeight: float64(imp) * scale,
			Contribution:   float64(q.weights[j]) * float64(imp) * scale,
			QueryExpansion: q.expansion[j], DocExpansion: docTokens != nil && !docTokens[term],
		})
	}
	slices.SortStableFunc(e.Matched, func(a, b Match) int {
		switch {
		case a.Contribution > b.Contribution:
			return -1
		case a.Contribution < b.Contribution:
			return 1
		}
		return 0
	})
	if v, ok := s.docs.vector(sn.ix.DocID(d)); ok { // a passage's own vector on a passage index
		e.DocTerms = termWeights(v, docTokens, s.docTerms)
	}
	return e
}
