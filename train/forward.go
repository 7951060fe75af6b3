package train

import (
	"github.com/splade-go/splade/kernels"
)

// layerActs are the saved activations of one transformer layer.
type layerActs struct {
	in         []float32 // [n][H] layer input
	qkv        []float32 // [n][3H]
	probs      []float32 // attention probabilities (see attention)
	ctx        []float32 // [n][H]
	attnSum    []float32 // [n][H] out(ctx) + in, LayerNorm input
	ln1m, ln1r []float32 // [n] its mean and 1/std
	h1         []float32 // [n][H] attention sublayer output
	ffnPre     []float32 // [n][I] before GELU
	ffnAct     []float32 // [n][I] after GELU
	ffnSum     []float32 // [n][H] ffn2(ffnAct) + h1
	ln2m, ln2r []float32
}

// Activations holds what a forward pass saves for its backward pass, and
// its results. Reuse one across steps (Model.ForwardInto) to keep the
// buffers.
type Activations struct {
	batch   [][]int32
	segs    []int // text s owns rows segs[s]..segs[s+1]-1
	probOff []int
	n       int

	embSum       []float32 // [n][H] word + position (+ type) embeddings
	embM, embR   []float32
	layers       []layerActs
	hidden       []float32 // [n][H] encoder output
	tPre, tAct   []float32 // [n][H] transform before / after GELU
	headM, headR []float32
	head         []float32 // [n][H] MLM head input to the decoder

	// SPLADE head (Forward).
	pooling kernels.Pooling
	vectors []float32 // [texts][Vocab]
	maxLog  []float32 // max pooling: the max logit of each (text, term)
	argmax  []int32   // max pooling: its row (also for inactive terms, maxLog <= 0)
}

// Texts returns the number of texts of the forward pass.
func (a *Activations) Texts() int { return len(a.segs) - 1 }

// Vectors returns the SPLADE vectors, [texts][Vocab] row-major (dense:
// most entries are exactly 0). The slice is owned by the activations.
func (a *Activations) Vectors() []float32 { return a.vectors }

// Vector returns the SPLADE vector of text s.
func (a *Activations) Vector(s int) []float32 {
	V := len(a.vectors) / a.Texts()
	return a.vectors[s*V : (s+1)*V]
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// encode runs the embeddings, the transformer layers and the MLM transform
// (dense, GELU, LayerNorm) on a checked batch, leaving a.head = the input
// of the vocabulary decoder.
func (m *Model) encode(a *Activations, batch [][]int32) {
	c := &m.Config
	H, I := c.Hidden, c.Intermediate
	pool := m.pool
	a.batch = batch
	a.segs = append(a.segs[:0], 0)
	for _, ids := range batch {
		a.segs = append(a.segs, a.segs[len(a.segs)-1]+len(ids))
	}
	n := a.segs[len(batch)]
	a.n = n
	a.embSum = grow(a.embSum, n*H)
	a.embM, a.embR = grow(a.embM, n), grow(a.embR, n)
	for s, ids := range batch {
		for p, id := range ids {
			row := a.embSum[(a.segs[s]+p)*H : (a.segs[s]+p+1)*H]
			copy(row, m.wordEmb[int(id)*H:(int(id)+1)*H])
			kernels.Add(row, m.posEmb[p*H:(p+1)*H])
			if m.typeEmb != nil {
				kernels.Add(row, m.typeEmb[:H])
			}
		}
	}
	if len(a.layers) != len(m.layers) {
		a.layers = make([]layerActs, len(m.layers))
	}
	var total int
	for li := range m.layers {
		la := &a.layers[li]
		la.in = grow(la.in, n*H)
		if li == 0 {
			m.embLN.forward(pool, la.in, a.embSum, a.embM, a.embR, n)
		}
		a.probOff, total = m.layers[li].attn.probOffsets(a.segs, a.probOff)
		la.qkv = grow(la.qkv, n*3*H)
		la.probs = grow(la.probs, total)
		la.ctx = grow(la.ctx, n*H)
		la.attnSum = grow(la.attnSum, n*H)
		la.ln1m, la.ln1r = grow(la.ln1m, n), grow(la.ln1r, n)
		la.h1 = grow(la.h1, n*H)
		la.ffnPre = grow(la.ffnPre, n*I)
		la.ffnAct = grow(la.ffnAct, n*I)
		la.ffnSum = grow(la.ffnSum, n*H)
		la.ln2m, la.ln2r = grow(la.ln2m, n), grow(la.ln2r, n)

		l := &m.layers[li]
		l.qkv.forward(pool, la.qkv, la.in, n)
		l.attn.forward(pool, la.ctx, la.probs, la.qkv, a.segs, a.probOff)
		l.out.forward(pool, la.attnSum, la.ctx, n)
		addInto(pool, la.attnSum, la.in)
		l.attnLN.forward(pool, la.h1, la.attnSum, la.ln1m, la.ln1r, n)
		l.ffn1.forward(pool, la.ffnPre, la.h1, n)
		geluForward(pool, la.ffnAct, la.ffnPre)
		l.ffn2.forward(pool, la.ffnSum, la.ffnAct, n)
		addInto(pool, la.ffnSum, la.h1)
		var out []float32
		if li+1 < len(m.layers) {
			nx := &a.layers[li+1]
			nx.in = grow(nx.in, n*H)
			out = nx.in
		} else {
			a.hidden = grow(a.hidden, n*H)
			out = a.hidden
		}
		l.ffnLN.forward(pool, out, la.ffnSum, la.ln2m, la.ln2r, n)
	}
	a.tPre, a.tAct = grow(a.tPre, n*H), grow(a.tAct, n*H)
	a.headM, a.headR = grow(a.headM, n), grow(a.headR, n)
	a.head = grow(a.head, n*H)
	m.transform.forward(pool, a.tPre, a.hidden, n)
	geluForward(pool, a.tAct, a.tPre)
	m.transformLN.forward(pool, a.head, a.tAct, a.headM, a.headR, n)
}

// encodeBackward propagates dHead (the gradient of the decoder input,
// [n][H]) back through the encoder into the parameter
// gradients.
func (m *Model) encodeBackward(a *Activations, dHead []float32) {
	c := &m.Config
	H, I := c.Hidden, c.Intermediate
	pool := m.pool
	n := a.n
	sc := &m.scratch
	sc.d1, sc.d2 = grow(sc.d1, n*H), grow(sc.d2, n*H)
	sc.dffn, sc.dqkv = grow(sc.dffn, n*I), grow(sc.dqkv, n*3*H)
	d1, d2, dffn, dqkv := sc.d1, sc.d2, sc.dffn, sc.dqkv
	m.transformLN.backward(pool, d1, dHead, a.tAct, a.headM, a.headR, n)
	geluBackward(pool, d1, d1, a.tPre)
	m.transform.backward(pool, d2, d1, a.hidden, n, false)
	// d2 is now the gradient of the encoder output.
	for li := len(m.layers) - 1; li >= 0; li-- {
		l, la := &m.layers[li], &a.layers[li]
		// Output LayerNorm: d2 -> dFfnSum (d1).
		l.ffnLN.backward(pool, d1, d2, la.ffnSum, la.ln2m, la.ln2r, n)
		// FFN: dH1 = dFfnSum (residual) + ffn1^T(GELU'(ffn2^T dFfnSum)).
		l.ffn2.backward(pool, dffn, d1, la.ffnAct, n, false)
		geluBackward(pool, dffn, dffn, la.ffnPre)
		l.ffn1.backward(pool, d1, dffn, la.h1, n, true)
		// Attention LayerNorm: d1 -> dAttnSum (d2).
		l.attnLN.backward(pool, d2, d1, la.attnSum, la.ln1m, la.ln1r, n)
		// dIn = dAttnSum (residual) + qkv^T(attention^T(out^T dAttnSum)).
		l.out.backward(pool, d1, d2, la.ctx, n, false) // d1 = dCtx
		l.attn.backward(pool, dqkv, d1, la.probs, la.qkv, a.segs, a.probOff)
		l.qkv.backward(pool, d2, dqkv, la.in, n, true) // d2 = dIn
	}
	// Embeddings: LayerNorm, then scatter into the rows used. Sequential
	// so that repeated ids add up in a fixed order.
	m.embLN.backward(pool, d1, d2, a.embSum, a.embM, a.embR, n)
	for s, ids := range a.batch {
		for p, id := range ids {
			g := d1[(a.segs[s]+p)*H : (a.segs[s]+p+1)*H]
			kernels.Add(m.wordEmbG[int(id)*H:(int(id)+1)*H], g)
			kernels.Add(m.posEmbG[p*H:(p+1)*H], g)
			if m.typeEmbG != nil {
				kernels.Add(m.typeEmbG[:H], g)
			}
		}
	}
}
