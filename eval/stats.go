package eval

import (
	"fmt"
	"runtime"

	"github.com/splade-go/splade/sparse"
)

// TermStats accumulates, over a set of sparse vectors, how many there are,
// their non-zero counts, and in how many vectors each term is non-zero.
// Entries with weight 0 are not non-zeros and are not counted.
type TermStats struct {
	N      int            // vectors
	NNZ    int64          // non-zero entries over all vectors
	MinNNZ int            // smallest per-vector non-zero count (0 when N == 0)
	MaxNNZ int            // largest per-vector non-zero count
	DF     map[string]int // term -> number of vectors in which it is non-zero
}

// NewTermStats returns an empty accumulator.
func NewTermStats() *TermStats { return &TermStats{DF: make(map[string]int)} }

// Add counts one vector. Terms are assumed distinct within a vector, as
// sparse.Reader guarantees.
func (s *TermStats) Add(v sparse.Vector) {
	nnz := 0
	for i, t := range v.Terms {
		if v.Weights[i] != 0 {
			nnz++
			s.DF[t]++
		}
	}
	if s.N == 0 || nnz < s.MinNNZ {
		s.MinNNZ = nnz
	}
	s.MaxNNZ = max(s.MaxNNZ, nnz)
	s.N++
	s.NNZ += int64(nnz)
}

// MeanNNZ is the average number of non-zeros per vector.
func (s *TermStats) MeanNNZ() float64 {
	if s.N == 0 {
		return 0
	}
	return float64(s.NNZ) / float64(s.N)
}

// Fractions returns p(j), the fraction of vectors in which term j is
// non-zero.
func (s *TermStats) Fractions() map[string]float64 {
	p := make(map[string]float64, len(s.DF))
	for t, df := range s.DF {
		p[t] = float64(df) / float64(s.N)
	}
	return p
}

// ReadTermStats streams a vector JSONL file into a TermStats.
func ReadTermStats(path string) (*TermStats, error) {
	r, err := sparse.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	s := NewTermStats()
	err = r.Each(runtime.GOMAXPROCS(0), func(rec sparse.Record, _ int) error {
		s.Add(rec.Vector)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// FLOPS is the SPLADE paper's estimate of retrieval cost (Formal et al.,
// SIGIR 2021, after Paria et al. 2020): the expected number of
// multiplications in a query-document dot product over an inverted index,
// sum_j p_q(j) p_d(j), where p_q (p_d) gives the fraction of queries
// (documents) in which term j is non-zero.
func FLOPS(q, d map[string]float64) float64 {
	if len(q) > len(d) {
		q, d = d, q
	}
	var sum float64
	for t, pq := range q {
		sum += pq * d[t]
	}
	return sum
}

// Stats describes a document collection and a query set encoded as sparse
// vectors.
type Stats struct {
	Docs, Queries *TermStats
	FLOPS         float64
}

// ComputeStats derives the statistics from accumulated documents and
// queries.
func ComputeStats(docs, queries *TermStats) (*Stats, error) {
	if docs.N == 0 || queries.N == 0 {
		return nil, fmt.Errorf("stats: need at least one document and one query (got %d and %d)", docs.N, queries.N)
	}
	return &Stats{Docs: docs, Queries: queries, FLOPS: FLOPS(queries.Fractions(), docs.Fractions())}, nil
}

// VectorStats reads a document and a query vector file and computes their
// statistics.
func VectorStats(docsPath, queriesPath string) (*Stats, error) {
	d, err := ReadTermStats(docsPath)
	if err != nil {
		return nil, err
	}
	q, err := ReadTermStats(queriesPath)
	if err != nil {
		return nil, err
	}
	s, err := ComputeStats(d, q)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", docsPath, queriesPath, err)
	}
	return s, nil
}
