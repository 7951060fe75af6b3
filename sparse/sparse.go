// Package sparse holds the representation that every stage after the
// encoder exchanges: a sparse vector over a vocabulary of terms, and its
// on-disk interchange form, JSON lines in Anserini's JsonVectorCollection
// layout:
//
//	{"id": "doc1", "contents": "", "vector": {"wordpiece": 1.25, "##s": 0.5}}
//
// The reader streams (one record in memory at a time), keeps the terms in
// file order, accepts gzip input, and reports malformed input with the file
// name and line number instead of skipping it.
package sparse

import (
	"math"
	"sort"
	"strconv"
)

// Vector is a sparse vector: Terms[i] has weight Weights[i]. Terms are
// vocabulary strings (WordPiece tokens for SPLADE models) so that vectors
// made by different tools can be exchanged without sharing term ids.
type Vector struct {
	Terms   []string
	Weights []float32
}

// Record is one line of a vector file: an external id and its vector.
//
// A record may be one passage of a longer document (splade encode --chunk
// writes those): Doc then names the document, and the index scores the
// document by its best passage (MaxP). Doc is its own JSON field ("doc"),
// so that no consumer has to guess the document by splitting ids. An empty
// Doc means the record is a whole document.
type Record struct {
	ID     string
	Vector Vector
	Doc    string
}

// PassageSeparator joins a document id and a passage number into the id of
// a passage record ("doc1#0", "doc1#1", ...).
const PassageSeparator = "#"

// PassageID returns the id of passage n (from 0) of document doc. Ids stay
// unique even when document ids contain the separator: the text after the
// last separator is the passage number, which holds none, so doc and n are
// recovered uniquely. Readers still take the document from Record.Doc.
func PassageID(doc string, n int) string {
	return doc + PassageSeparator + strconv.Itoa(n)
}

// Len returns the number of non-zero entries.
func (v Vector) Len() int { return len(v.Terms) }

// Dot returns the inner product of two vectors, the SPLADE relevance score.
func Dot(a, b Vector) float64 {
	if len(a.Terms) > len(b.Terms) {
		a, b = b, a
	}
	m := make(map[string]float32, len(a.Terms))
	for i, t := range a.Terms {
		m[t] += a.Weights[i]
	}
	var s float64
	for i, t := range b.Terms {
		if w, ok := m[t]; ok {
			s += float64(w) * float64(b.Weights[i])
		}
	}
	return s
}

// SortByWeight orders the entries by decreasing weight (ties by term), the
// order used for display and for top-k truncation.
func (v Vector) SortByWeight() {
	sort.Sort(byWeight(v))
}

// TopK keeps the k heaviest entries (all when k <= 0) and drops entries whose
// weight is below threshold. The vector is reordered by decreasing weight.
func (v *Vector) TopK(k int, threshold float32) {
	v.SortByWeight()
	n := len(v.Terms)
	if k > 0 && k < n {
		n = k
	}
	for n > 0 && v.Weights[n-1] < threshold {
		n--
	}
	v.Terms, v.Weights = v.Terms[:n], v.Weights[:n]
}

type byWeight Vector

func (b byWeight) Len() int { return len(b.Terms) }
func (b byWeight) Less(i, j int) bool {
	if b.Weights[i] != b.Weights[j] {
		return b.Weights[i] > b.Weights[j]
	}
	return b.Terms[i] < b.Terms[j]
}
func (b byWeight) Swap(i, j int) {
	b.Terms[i], b.Terms[j] = b.Terms[j], b.Terms[i]
	b.Weights[i], b.Weights[j] = b.Weights[j], b.Weights[i]
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
