package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/splade-go/splade/kernels"
)

// Masked-language-model pre-training (BERT's objective), for adapting an
// encoder to a domain's raw text before the ranking stage: some tokens are
// masked and the model predicts them with a softmax over the vocabulary.
// Only the masked positions need logits, so the decoder runs on those rows
// alone.

// Ignore marks a position without an MLM label.
const Ignore = -1

// MLM runs the model on masked inputs and returns the mean cross-entropy
// over the positions whose label is not Ignore, and their number. labels
// has the shape of batch; labels[s][i] is the original token at a masked
// position. With backward set it also accumulates the gradient of that
// mean into the parameters.
func (m *Model) MLM(a *Activations, batch, labels [][]int32, backward bool) (loss float64, count int, err error) {
	if err := m.CheckIDs(batch); err != nil {
		return 0, 0, err
	}
	if len(labels) != len(batch) {
		return 0, 0, fmt.Errorf("mlm: %d label rows for %d texts", len(labels), len(batch))
	}
	V, H := m.Config.Vocab, m.Config.Hidden
	var rows, targets []int
	off := 0
	for s := range batch {
		if len(labels[s]) != len(batch[s]) {
			return 0, 0, fmt.Errorf("mlm: text %d has %d tokens but %d labels", s, len(batch[s]), len(labels[s]))
		}
		for i, l := range labels[s] {
			if l == Ignore {
				continue
			}
			if l < 0 || int(l) >= V {
				return 0, 0, fmt.Errorf("mlm: text %d, token %d: label %d outside the vocabulary of %d", s, i, l, V)
			}
			rows = append(rows, off+i)
			targets = append(targets, int(l))
		}
		off += len(batch[s])
	}
	if len(rows) == 0 {
		return 0, 0, fmt.Errorf("mlm: no labeled position in the batch")
	}
	m.encode(a, batch)
	M := len(rows)
	hm := make([]float32, M*H)
	for r, i := range rows {
		copy(hm[r*H:(r+1)*H], a.head[i*H:(i+1)*H])
	}
	// Logits [M][V], vocabulary blocks in parallel.
	z := make([]float32, M*V)
	blocks := (V + colBlock - 1) / colBlock
	m.pool.For(blocks, 1, func(lo, hi int) {
		for blk := lo; blk < hi; blk++ {
			j0 := blk * colBlock
			cols := min(colBlock, V-j0)
			kernels.Gemm(false, true, M, cols, H, 1, hm, H, m.decoder[j0*H:], H, 0, z[j0:], V)
			for r := 0; r < M; r++ {
				kernels.Add(z[r*V+j0:r*V+j0+cols], m.decBias[j0:j0+cols])
			}
		}
	})
	// Softmax cross-entropy per row (the kernels' vectorized softmax, in
	// place); dZ = (softmax - onehot) / M.
	rowLoss := make([]float64, M)
	inv := float32(1 / float64(M))
	m.pool.For(M, 4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := z[r*V : (r+1)*V]
			kernels.Softmax(row)
			// A probability that underflows float32 would give an infinite
			// loss; clamp it to the smallest normal float32.
			rowLoss[r] = -math.Log(max(float64(row[targets[r]]), 0x1p-126))
			if backward {
				for j := range row {
					row[j] *= inv
				}
				row[targets[r]] -= inv
			}
		}
	})
	for _, l := range rowLoss {
		loss += l
	}
	loss /= float64(M)
	if !backward {
		return loss, M, nil
	}
	// dW_block += dZ_block^T hm and db: workers split the vocabulary; dhm
	// partial sums per worker part, added in a fixed order.
	parts := min(m.pool.Threads(), blocks)
	partial := make([][]float32, parts)
	m.pool.For(parts, 1, func(plo, phi int) {
		for part := plo; part < phi; part++ {
			dh := make([]float32, M*H)
			partial[part] = dh
			for blk := part * blocks / parts; blk < (part+1)*blocks/parts; blk++ {
				j0 := blk * colBlock
				cols := min(colBlock, V-j0)
				for r := 0; r < M; r++ {
					kernels.Add(m.decBiasG[j0:j0+cols], z[r*V+j0:r*V+j0+cols])
				}
				kernels.Gemm(true, false, cols, H, M, 1, z[j0:], V, hm, H, 1, m.decoderG[j0*H:], H)
				kernels.Gemm(false, false, M, H, cols, 1, z[j0:], V, m.decoder[j0*H:], H, 1, dh, H)
			}
		}
	})
	dHead := make([]float32, a.n*H)
	for _, p := range partial {
		for r, i := range rows {
			kernels.Add(dHead[i*H:(i+1)*H], p[r*H:(r+1)*H])
		}
	}
	m.encodeBackward(a, dHead)
	return loss, M, nil
}

// Masker chooses the positions of masked-language-model training as BERT
// does: each token that is not special is selected with probability Prob;
// a selected token becomes MaskID with probability 0.8, a random
// vocabulary token with 0.1, and stays itself with 0.1.
//
// With CopyProb > 0, each token that is not selected is also labeled, with
// that probability, as itself (input unchanged): the copy task. SPLADE
// reads the MLM head at unmasked positions, where a pretrained BERT
// predicts the token itself (and its neighbours in meaning): that is what
// makes a document's own terms appear in its vector. BERT's 10% of kept
// tokens teach it slowly; a model trained from scratch on a small corpus
// learns it in a few hundred steps with the copy task, and the masked
// positions still teach context.
type Masker struct {
	Prob     float64
	CopyProb float64
	MaskID   int32
	Vocab    int
	Special  map[int32]bool // never masked ([CLS], [SEP], [PAD], ...)
}

// Mask returns the model input and the labels (Ignore where not selected)
// for ids. The draws come from rng, so a seeded rng gives the same masks.
func (mk *Masker) Mask(rng *rand.Rand, ids []int32) (input, labels []int32) {
	input = append([]int32(nil), ids...)
	labels = make([]int32, len(ids))
	for i, id := range ids {
		labels[i] = Ignore
		if mk.Special[id] {
			continue
		}
		if rng.Float64() >= mk.Prob {
			if mk.CopyProb > 0 && rng.Float64() < mk.CopyProb {
				labels[i] = id
			}
			continue
		}
		labels[i] = id
		switch u := rng.Float64(); {
		case u < 0.8:
			input[i] = mk.MaskID
		case u < 0.9:
			input[i] = int32(rng.IntN(mk.Vocab))
		}
	}
	return input, labels
}
