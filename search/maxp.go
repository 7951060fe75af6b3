package search

import (
	"math"

	"github.com/splade-go/splade/index"
)

// Documents scored by their best passage (MaxP, Dai and Callan, SIGIR
// 2019). On a passage index (index.Index.HasPassages) a search returns k
// documents, each scored by its best passage, rather than k passages.
//
// The query processors rank passages; the documents are read off that
// ranking. Exactness: order the documents by their first passage in the
// exact passage ranking (score descending, internal id ascending). That is
// the order by best-passage score, ties broken by the best passage's
// internal id, and the first k distinct documents among the top k'
// passages are exactly the top k documents: a document none of whose
// passages is among the top k' has a best passage ranked below all of
// them. So the searcher asks for k' passages and, when they hold fewer than
// k distinct documents while more passages match, asks again with a larger
// k' (iterative deepening). k' starts at k x the mean passages per
// document, which on SciFact with 64-token passages sufficed for most
// queries (see BENCHMARKS.md); every exact mode gives the same documents,
// scores and order as a brute-force maximum over passages. Approx applies
// its approximation to the passage ranking.

// run is the searcher's entry point: documents by MaxP on a passage index
// (unless opt.Passages), the query processor's ranking otherwise.
func (s *Searcher) run(sc *scratch, q Query, opt Options) ([]Hit, error) {
	if opt.Passages || !s.ix.HasPassages() {
		return s.search(sc, q, opt)
	}
	k, n := opt.K, s.ix.NumDocs()
	per := (n + s.ix.NumDocuments() - 1) / s.ix.NumDocuments()
	kp := n
	if k < n/per {
		kp = k * per
	}
	for {
		popt := opt
		popt.K = kp
		hits, err := s.search(sc, q, popt)
		if err != nil {
			return nil, err
		}
		docs := s.Documents(hits, k)
		if len(docs) == k || len(hits) < kp || kp >= n {
			return docs, nil
		}
		// Grow k' by the passages per distinct document seen so far, with
		// a margin, and at least double it, so that the rounds stay few.
		next := 2 * float64(kp)
		if len(docs) > 0 {
			next = max(next, 1.25*float64(kp)*float64(k)/float64(len(docs)))
		}
		kp = int(min(next, float64(n), math.MaxInt32))
	}
}

// Documents turns a passage ranking (best first, as the query processors
// return it with Options.Passages) into the first k documents by their best
// passage: each document's first passage in hits gives its rank and score.
// In the document hits, Doc is the best passage's internal id (what the
// index's cursors and explanations address), ID the document's external id
// and Passage the best passage's. On a document index it returns the first
// k hits.
func (s *Searcher) Documents(hits []Hit, k int) []Hit {
	if !s.ix.HasPassages() {
		return hits[:min(k, len(hits))]
	}
	seen := make(map[uint32]struct{}, min(k, len(hits)))
	out := make([]Hit, 0, min(k, len(hits)))
	for _, h := range hits {
		if len(out) == k {
			break
		}
		d := s.ix.DocumentOf(h.Doc)
		if _, dup := seen[d]; dup {
			continue
		}
		seen[d] = struct{}{}
		out = append(out, Hit{Doc: h.Doc, ID: s.ix.DocumentID(d), Passage: s.ix.DocID(h.Doc), Score: h.Score})
	}
	return out
}

// Index returns the index the searcher reads.
func (s *Searcher) Index() *index.Index { return s.ix }
