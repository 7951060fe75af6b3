package bm25

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Params are BM25's free parameters.
type Params struct {
	K1 float32 // term frequency saturation
	B  float32 // document length normalization, 0..1
}

// AnseriniParams are Anserini's defaults, k1=0.9 and b=0.4 (Trotman et al.
// 2012), used by all its BM25 regressions.
var AnseriniParams = Params{K1: 0.9, B: 0.4}

// Validate reports parameters Lucene would reject.
func (p Params) Validate() error {
	if math.IsNaN(float64(p.K1)) || math.IsInf(float64(p.K1), 0) || p.K1 < 0 {
		return fmt.Errorf("bm25: k1 = %v, must be a non-negative finite number", p.K1)
	}
	if math.IsNaN(float64(p.B)) || p.B < 0 || p.B > 1 {
		return fmt.Errorf("bm25: b = %v, must be between 0 and 1", p.B)
	}
	return nil
}

// Result is one retrieved document. Scores are float32, as Lucene's.
type Result struct {
	DocID string
	Score float32
}

// Searcher scores queries against an Index. It owns scratch space the size
// of the collection, so use one per goroutine.
type Searcher struct {
	ix      *Index
	params  Params
	inv     [256]float32 // 1 / (k1 * (1 - b + b * dl/avgdl)) per norm byte
	acc     []float64    // score accumulator per document
	touched []int32      // documents with acc != 0
	terms   []string
	heap    []hit
}

// hit is a candidate during top-k selection.
type hit struct {
	score float32
	doc   int32
}

// NewSearcher returns a searcher with the given parameters.
func (ix *Index) NewSearcher(p Params) (*Searcher, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	s := &Searcher{ix: ix, params: p, acc: make([]float64, len(ix.ids))}
	// As Lucene's BM25Similarity.scorer: avgdl from the exact total, the
	// length of each norm byte decoded, every operation rounded to float32
	// (explicit conversions keep the compiler from fusing them).
	avgdl := float32(float64(ix.sumTTF) / float64(max(ix.docCount, 1)))
	for i := range s.inv {
		bdl := float32(p.B * float32(decodeNorm(uint8(i))))
		norm := float32(p.K1 * float32((1-p.B)+float32(bdl/avgdl)))
		s.inv[i] = 1 / norm
	}
	return s, nil
}

// idf is Lucene's BM25 idf, computed in float64 and rounded to float32.
func idf(docFreq, docCount int) float32 {
	n, N := float64(docFreq), float64(docCount)
	return float32(math.Log(1 + (N-n+0.5)/(n+0.5)))
}

// Search returns the k best documents for the query text, best first.
func (s *Searcher) Search(query string, k int) []Result {
	s.terms = s.ix.analyzer.AppendTerms(s.terms[:0], query)
	return s.search(k)
}

// SearchTerms is Search for an already analyzed query: one clause per
// term, so a repeated term counts once per occurrence.
func (s *Searcher) SearchTerms(terms []string, k int) []Result {
	s.terms = append(s.terms[:0], terms...)
	return s.search(k)
}

// search scores the query in s.terms.
func (s *Searcher) search(k int) []Result {
	terms := s.terms
	if k <= 0 || len(terms) == 0 {
		return nil
	}
	ix := s.ix
	// Identical clauses contribute identical scores: score each distinct
	// term once and count its occurrences.
	slices.Sort(terms)
	for i := 0; i < len(terms); {
		j := i + 1
		for j < len(terms) && terms[j] == terms[i] {
			j++
		}
		if t, ok := ix.vocab[terms[i]]; ok {
			s.accumulate(&ix.postings[t], float64(j-i))
		}
		i = j
	}
	res := s.topK(k)
	for _, d := range s.touched {
		s.acc[d] = 0
	}
	s.touched = s.touched[:0]
	return res
}

// accumulate adds one term's BM25 contribution, times the number of query
// clauses holding it, to the accumulators of its documents.
func (s *Searcher) accumulate(pl *postingList, clauses float64) {
	w := idf(len(pl.docs), s.ix.docCount)
	for i, d := range pl.docs {
		score := s.clauseScore(w, pl.freqs[i], d)
		if s.acc[d] == 0 {
			s.touched = append(s.touched, d)
		}
		s.acc[d] += float64(score) * clauses
	}
}

// clauseScore is one query clause's score for document d holding the term
// freq times, as Lucene's BM25Scorer: weight - weight / (1 + freq * normInverse).
func (s *Searcher) clauseScore(w float32, freq, d int32) float32 {
	x := float32(float32(freq) * s.inv[s.ix.norms[d]])
	return w - float32(w/(1+x))
}

// better orders hits as Anserini's searcher sorts them: higher score
// first, ties by external id in byte order.
func (s *Searcher) better(a, b hit) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return s.ix.idRank[a.doc] < s.ix.idRank[b.doc]
}

// topK selects the k best touched documents with a bounded heap whose root
// is the worst hit kept.
func (s *Searcher) topK(k int) []Result {
	h := s.heap[:0]
	for _, d := range s.touched {
		c := hit{float32(s.acc[d]), d}
		if len(h) < k {
			h = append(h, c)
			s.up(h, len(h)-1)
		} else if s.better(c, h[0]) {
			h[0] = c
			s.down(h, 0)
		}
	}
	s.heap = h
	slices.SortFunc(h, func(a, b hit) int {
		if s.better(a, b) {
			return -1
		}
		if s.better(b, a) {
			return 1
		}
		return 0
	})
	res := make([]Result, len(h))
	for i, c := range h {
		res[i] = Result{DocID: s.ix.ids[c.doc], Score: c.score}
	}
	return res
}

func (s *Searcher) up(h []hit, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !s.better(h[p], h[i]) {
			return
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func (s *Searcher) down(h []hit, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		worst := l
		if r := l + 1; r < len(h) && s.better(h[l], h[r]) {
			worst = r
		}
		if !s.better(h[i], h[worst]) {
			return
		}
		h[i], h[worst] = h[worst], h[i]
		i = worst
	}
}

// Query is one query of a batch.
type Query struct {
	ID   string
	Text string
}

// Options control SearchAll.
type Options struct {
	Params Params
	K      int // results per query (Anserini's -hits, default 1000)
	// Workers is the number of queries searched at once (0: GOMAXPROCS).
	Workers int
	// RemoveQueryID drops a result whose document id equals the query id
	// after retrieving K, as Anserini's -removeQuery (used in its BEIR
	// regressions, where some corpora contain the queries).
	RemoveQueryID bool
	// Progress, when set, is called (from any goroutine) after each query.
	Progress func()
}

// SearchAll searches every query in parallel and returns the results in
// query order.
func (ix *Index) SearchAll(queries []Query, opt Options) ([][]Result, error) {
	if opt.K <= 0 {
		return nil, fmt.Errorf("bm25: k = %d, must be positive", opt.K)
	}
	if err := opt.Params.Validate(); err != nil {
		return nil, err
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(queries)))
	out := make([][]Result, len(queries))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		s, err := ix.NewSearcher(opt.Params)
		if err != nil {
			return nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(queries) {
					return
				}
				res := s.Search(queries[i].Text, opt.K)
				if opt.RemoveQueryID {
					res = slices.DeleteFunc(res, func(r Result) bool { return r.DocID == queries[i].ID })
				}
				out[i] = res
				if opt.Progress != nil {
					opt.Progress()
				}
			}
		}()
	}
	wg.Wait()
	return out, nil
}

// AdjustTies rewrites scores in place as Anserini's ScoreTiesAdjusterReranker
// does before writing a run: each score rounded to 4 decimals, and within
// a run of (rounded) ties each later document lowered by 1e-6 per
// position, so that tools that re-sort by score (trec_eval breaks ties by
// descending document id) keep the searcher's order. Results must be in
// rank order.
func AdjustTies(results []Result) {
	dup := 0
	for i := range results {
		sc := float32(math.Floor(float64(float32(results[i].Score*1e4)) + 0.5))
		sc = float32(sc / 1e4)
		if i == 0 || float32(results[i-1].Score-sc) > 1e-4 {
			dup = 0
		} else {
			dup++
			sc -= float32(1e-6 * float32(dup))
		}
		results[i].Score = sc
	}
}
