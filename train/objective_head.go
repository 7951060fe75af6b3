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
	if dMaxLogits == nil {
		return m.Backward(a, dVectors)
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
	m.encodeBackward(a, dHead)
	return nil
}
