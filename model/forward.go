package model

import (
	"fmt"
	"math"

	"github.com/splade-go/splade/kernels"
)

// scratch holds the activations of one forward pass, reused across calls
// (buffers only grow).
type scratch struct {
	x, qkv, ctx, tmp, ffn, out []float32
	segs                       []int
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n, n+n/4)
	}
	return b[:n]
}

// CheckIDs reports the first input that the model cannot encode: a token id
// outside the vocabulary or a sequence longer than the position embeddings.
func (m *Model) CheckIDs(batch [][]int32) error {
	for s, ids := range batch {
		if len(ids) > m.Config.MaxPositions {
			return fmt.Errorf("input %d has %d tokens, the model takes at most %d", s, len(ids), m.Config.MaxPositions)
		}
		for i, id := range ids {
			if id < 0 || int(id) >= m.Config.Vocab {
				return fmt.Errorf("input %d: token %d has id %d, outside the vocabulary of %d", s, i, id, m.Config.Vocab)
			}
		}
	}
	return nil
}

// forward computes the SPLADE vectors of a batch of token id sequences
// (already checked by CheckIDs) into sc.out[len(batch)][Vocab]. The texts
// are stacked, not padded: text s owns rows segs[s]..segs[s+1]-1.
func (m *Model) forward(pool *kernels.Pool, sc *scratch, batch [][]int32, mode kernels.Pooling) []float32 {
	c := &m.Config
	H, I, V := c.Hidden, c.Intermediate, c.Vocab
	sc.segs = append(sc.segs[:0], 0)
	for _, ids := range batch {
		sc.segs = append(sc.segs, sc.segs[len(sc.segs)-1]+len(ids))
	}
	n := sc.segs[len(batch)]
	sc.x = grow(sc.x, n*H)
	sc.qkv = grow(sc.qkv, n*3*H)
	sc.ctx = grow(sc.ctx, n*H)
	sc.tmp = grow(sc.tmp, n*H)
	sc.ffn = grow(sc.ffn, n*I)
	sc.out = grow(sc.out, len(batch)*V)
	x := sc.x

	// Embeddings: word + absolute position (+ token type 0 for BERT).
	for s, ids := range batch {
		for p, id := range ids {
			row := x[(sc.segs[s]+p)*H : (sc.segs[s]+p+1)*H]
			copy(row, m.wordEmb[int(id)*H:(int(id)+1)*H])
			kernels.Add(row, m.posEmb[p*H:(p+1)*H])
			if m.typeEmb != nil {
				kernels.Add(row, m.typeEmb)
			}
		}
	}
	layerNormRows(pool, x, n, H, m.embLN, c.LayerNormEps)

	for li := range m.layers {
		l := &m.layers[li]
		l.qkv.MatMul(pool, sc.qkv, x, n, l.qkvBias)
		m.attention(pool, sc)
		l.out.MatMul(pool, sc.tmp, sc.ctx, n, l.outBias)
		addRows(pool, sc.tmp, x, n, H) // residual
		layerNormRows(pool, sc.tmp, n, H, l.attnLN, c.LayerNormEps)
		l.ffn1.MatMulGELU(pool, sc.ffn, sc.tmp, n, l.ffn1B) // GELU fused while the block is in cache
		l.ffn2.MatMul(pool, x, sc.ffn, n, l.ffn2B)
		addRows(pool, x, sc.tmp, n, H) // residual
		layerNormRows(pool, x, n, H, l.ffnLN, c.LayerNormEps)
	}

	// MLM head: transform, then the fused decoder + SPLADE pooling.
	m.transform.MatMul(pool, sc.tmp, x, n, m.transformBias)
	geluRows(pool, sc.tmp, n, H)
	layerNormRows(pool, sc.tmp, n, H, m.transformLN, c.LayerNormEps)
	m.decoder.SpladePool(pool, sc.out, sc.tmp, sc.segs, m.decoderBias, mode)
	return sc.out
}

// attention computes softmax(Q K^T / sqrt(d)) V per text and head from the
// fused projections in sc.qkv ([n][3H]: query, key, value) into sc.ctx. A
// text attends only to its own rows, which equals padded attention with the
// padding masked out.
func (m *Model) attention(pool *kernels.Pool, sc *scratch) {
	H, heads := m.Config.Hidden, m.Config.Heads
	dh := H / heads
	scale := float32(1 / math.Sqrt(float64(dh)))
	kernels.Attention(pool, sc.ctx, sc.qkv, sc.segs, heads, dh, scale)
}

// rowGrain is the number of rows per task of the row-wise loops.
const rowGrain = 16

func layerNormRows(pool *kernels.Pool, x []float32, rows, dim int, ln layerNorm, eps float32) {
	pool.For(rows, rowGrain, func(lo, hi int) {
		kernels.LayerNorm(x[lo*dim:hi*dim], hi-lo, dim, ln.gamma, ln.beta, eps)
	})
}

func geluRows(pool *kernels.Pool, x []float32, rows, dim int) {
	pool.For(rows, rowGrain, func(lo, hi int) { kernels.GELU(x[lo*dim : hi*dim]) })
}

func addRows(pool *kernels.Pool, x, y []float32, rows, dim int) {
	pool.For(rows, 4*rowGrain, func(lo, hi int) { kernels.Add(x[lo*dim:hi*dim], y[lo*dim:hi*dim]) })
}
