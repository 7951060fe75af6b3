package train

import (
	"fmt"
	"math"
)

// A lexical teacher: BM25 written as SPLADE vectors.
//
// A model trained from scratch starts with no notion that a text's own
// terms matter, and the ranking loss alone has to discover lexical
// matching through 30,522 dead-or-alive ReLUs. BM25, however, is a dot
// product of two sparse vectors over the same WordPiece vocabulary:
//
//	BM25(q, d) = sum_t idf(t) sat(tf_t(d), |d|)   (one occurrence per query term)
//	sat(tf, n) = tf (k1 + 1) / (tf + k1 (1 - b + b n / avgdl))
//
// and with v_t(x) = s sqrt(idf(t)) sat(tf_t(x), |x|) for any text x,
// v(q) . v(d) = s^2 sum_t idf(t) sat_q(t) sat_d(t), which ranks like BM25
// (sat_q is nearly constant over the terms of a short query). Regressing
// the model's vectors onto v(x) for queries and documents (through the
// dead-ReLU-safe surrogate of TeacherRegression) teaches it, in a few
// hundred steps, the identity of its MLM head, idf weighting, term
// frequency saturation and length normalization: a BM25-equivalent SPLADE
// that the ranking loss then improves on, with expansion and context.
// idf is Lucene's log(1 + (N - df + 0.5) / (df + 0.5)) over the WordPiece
// tokens of the training collection.

// LexicalTeacher computes BM25 target vectors over WordPiece ids.
type LexicalTeacher struct {
	K1, B, Scale float64
	idf          []float64 // by vocabulary id; 0 for special tokens
	avgLen       float64
	special      map[int32]bool
}

// NewLexicalTeacher gathers document frequencies and the average length
// (in non-special tokens) of docs, token ids with [CLS]/[SEP] as the
// tokenizer writes them. special lists ids that never get weight. k1 and b
// are BM25's (Anserini: 0.9, 0.4); scale is s above.
func NewLexicalTeacher(docs [][]int32, V int, special map[int32]bool, k1, b, scale float64) (*LexicalTeacher, error) {
	if len(docs) == 0 {
		return nil, fmt.Errorf("lexical teacher: no documents")
	}
	if k1 <= 0 || b < 0 || b > 1 || scale <= 0 {
		return nil, fmt.Errorf("lexical teacher: k1 %g, b %g, scale %g (want k1 > 0, b in [0, 1], scale > 0)", k1, b, scale)
	}
	df := make([]int, V)
	seen := make([]int, V)
	total := 0
	for i, d := range docs {
		for _, id := range d {
			if id < 0 || int(id) >= V {
				return nil, fmt.Errorf("lexical teacher: document %d has token id %d outside the vocabulary of %d", i, id, V)
			}
			if special[id] {
				continue
			}
			total++
			if seen[id] != i+1 {
				seen[id] = i + 1
				df[id]++
			}
		}
	}
	if total == 0 {
		return nil, fmt.Errorf("lexical teacher: the documents have no token")
	}
	n := float64(len(docs))
	t := &LexicalTeacher{K1: k1, B: b, Scale: scale, idf: make([]float64, V), avgLen: float64(total) / n, special: special}
	for id := range t.idf {
		if !special[int32(id)] {
			t.idf[id] = math.Log(1 + (n-float64(df[id])+0.5)/(float64(df[id])+0.5))
		}
	}
	return t, nil
}

// Vector writes the target vector of a text (token ids) into dst, a zeroed
// row of the vocabulary's length.
func (t *LexicalTeacher) Vector(ids []int32, dst []float32) {
	tf := map[int32]int{}
	n := 0
	for _, id := range ids {
		if !t.special[id] && int(id) < len(t.idf) && id >= 0 {
			tf[id]++
			n++
		}
	}
	norm := t.K1 * (1 - t.B + t.B*float64(n)/t.avgLen)
	for id, c := range tf {
		f := float64(c)
		dst[id] = float32(t.Scale * math.Sqrt(t.idf[id]) * f * (t.K1 + 1) / (f + norm))
	}
}
