package train

import (
	"fmt"

	"github.com/splade-go/splade/kernels"
)

// MaxLogits returns the max-pooled decoder logits m_sj = max_i z_ij of a
// max-pooled forward pass, [texts][Vocab] (the SPLADE weight is
// log(1 + ReLU(m))), for objectives that must reach inactive terms (see
// TeacherRegression). The slice is owned by the activations; it is nil
// after a sum-pooled pass.
func (a *Activations) MaxLogits() []float32 {
	if a.pooling != kernels.PoolMax {
		return nil
	}
	return a.maxLog
}

// BackwardMaxLogits is Backward for a loss of both the SPLADE vectors
// (gradient dVectors) and the max-pooled logits (gradient dMaxLogits,
// layout of MaxLogits; nil for none). For an active term (m > 0) the two
// meet at the same argmax logit, dz = dw/(1+m) + dm; an inactive term
// passes dm alone to its argmax token, which is what keeps such a term
// trainable.
func (m *Model) BackwardMaxLogits(a *Activations, dVectors, dMaxLogits []float32) error {
	return m.BackwardTokenLogits(a, dVectors, dMaxLogits, nil)
}

// TokenLogits returns, for every row i of a forward pass (every token of
// every text, in order), the logit of the token's own term at its own
// position, z_i = h_i . W_{t_i} + b_{t_i}: what the copy task and the
// lexical warm start push up, so that a text's terms appear in its vector
// from the positions where they occur.
func (a *Activations) TokenLogits(m *Model) []float32 {
	H := m.Config.Hidden
	z := make([]float32, a.n)
	i := 0
	for _, ids := range a.batch {
		for _, t := range ids {
			w := m.decoder[int(t)*H : (int(t)+1)*H]
			h := a.head[i*H : (i+1)*H]
			var s float32
			for k := range w {
				s += h[k] * w[k]
			}
			z[i] = s + m.decBias[t]
			i++
		}
	}
	return z
}

// BackwardTokenLogits is BackwardMaxLogits with, in addition, the gradient
// of a loss of the token logits (dTokenLogits, layout of TokenLogits; nil
// for none).
func (m *Model) BackwardTokenLogits(a *Activations, dVectors, dMaxLogits, dTokenLogits []float32) error {
	if dMaxLogits == nil && dTokenLogits == nil {
		return m.Backward(a, dVectors)
	}
	if dTokenLogits != nil && len(dTokenLogits) != a.n {
		return fmt.Errorf("backward: %d token-logit gradients for %d tokens", len(dTokenLogits), a.n)
	}
	if dMaxLogits == nil {
		dMaxLogits = make([]float32, len(dVectors))
	}
	V, H := m.Config.Vocab, m.Config.Hidden
	nseg := len(a.segs) - 1
	if a.pooling != kernels.PoolMax {
		return fmt.Errorf("backward: max-logit gradients need a max-pooled forward pass")
	}
	if len(dVectors) != nseg*V || len(dMaxLogits) != nseg*V {
		return fmt.Errorf("backward: %d vector and %d max-logit gradients for %d texts of %d terms", len(dVectors), len(dMaxLogits), nseg, V)
	}
	// Active terms: fold dm into the vector gradient, since the sparse
	// backward divides by (1 + m).
	dv := make([]float32, len(dVectors))
	for k, g := range dVectors {
		if z := a.maxLog[k]; z > 0 {
			dv[k] = g + dMaxLogits[k]*(1+z)
		}
	}
	m.scratch.dHead = grow(m.scratch.dHead, a.n*H)
	dHead := m.scratch.dHead
	clear(dHead)
	m.maxPoolBackward(a, dv, dHead)
	// Inactive terms: dz = dm at the argmax token.
	dz := func(s, j int) (float32, int) {
		k := s*V + j
		i := a.argmax[k]
		if i < 0 || a.maxLog[k] > 0 || dMaxLogits[k] == 0 {
			return 0, -1
		}
		return dMaxLogits[k], int(i)
	}
	m.pool.For(V, 256, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			gw := m.decoderG[j*H : (j+1)*H]
			for s := 0; s < nseg; s++ {
				if g, i := dz(s, j); i >= 0 {
					m.decBiasG[j] += g
					kernels.Axpy(gw, g, a.head[i*H:(i+1)*H])
				}
			}
		}
	})
	m.pool.For(nseg, 1, func(lo, hi int) {
		for s := lo; s < hi; s++ {
			for j := 0; j < V; j++ {
				if g, i := dz(s, j); i >= 0 {
					kernels.Axpy(dHead[i*H:(i+1)*H], g, m.decoder[j*H:(j+1)*H])
				}
			}
		}
	})
	if dTokenLogits != nil {
		// One decoder row per token: rows of the same term meet, so this
		// runs in order (n x Hidden work, small next to the head).
		i := 0
		for _, ids := range a.batch {
			for _, t := range ids {
				if g := dTokenLogits[i]; g != 0 {
					m.decBiasG[t] += g
					kernels.Axpy(m.decoderG[int(t)*H:(int(t)+1)*H], g, a.head[i*H:(i+1)*H])
					kernels.Axpy(dHead[i*H:(i+1)*H], g, m.decoder[int(t)*H:(int(t)+1)*H])
				}
				i++
			}
		}
	}
	m.encodeBackward(a, dHead)
	return nil
}
