package train

import (
	"fmt"

	"github.com/splade-go/splade/kernels"
)

// The SPLADE head on top of the MLM head:
//
//	z_ij = h_i . W_j + b_j           (decoder logits, token i, term j)
//	w_sj = pool_{i in s} log(1 + ReLU(z_ij))
//
// The [tokens][Vocab] logits are never stored: with max pooling the
// kernels' fused product (kernels.Packed.MaxLogits) keeps only each
// (text, term)'s max logit and its row; with sum pooling tiles of a row
// group (whole texts) by colBlock terms are computed and reduced at once.
// With max pooling the backward is sparse: only the argmax token of each active
// term gets a gradient, so it touches one decoder row and one hidden row
// per nonzero (text, term) instead of the whole tokens x Vocab x Hidden
// product. Sum pooling has a dense backward, recomputed tile by tile.

// colBlock is the number of vocabulary terms per tile (sum pooling).
const colBlock = 512

// groupRows is the target number of rows per tile: texts are grouped until
// they reach it (a longer text is a group by itself). Gemm packs both of
// its operands on every call, so large row groups matter: each group packs
// the whole decoder once, each vocabulary block packs the group's hidden
// states once (contiguous and cache-resident, so cheap). A 4096 x 512 tile
// takes 8 MB per worker.
const groupRows = 4096

// rowGroups cuts the texts of segs into consecutive groups of about
// groupRows rows; it returns the text index at which each group starts,
// plus len(segs)-1 at the end.
func rowGroups(segs []int) []int {
	g := []int{0}
	nseg := len(segs) - 1
	for s := 1; s < nseg; s++ {
		if segs[s+1]-segs[g[len(g)-1]] > groupRows {
			g = append(g, s)
		}
	}
	return append(g, nseg)
}

// transposeDecoder refreshes m.decoderT = W^T ([Hidden][Vocab]) from the
// current decoder weights. The logit tiles read W^T: Gemm packs its B
// operand per call, and packing contiguous rows of W^T is several times
// faster than gathering the columns of W.
func (m *Model) transposeDecoder() {
	V, H := m.Config.Vocab, m.Config.Hidden
	m.decoderT = grow(m.decoderT, V*H)
	const blk = 64
	m.pool.For((V+blk-1)/blk, 16, func(lo, hi int) {
		for j0 := lo * blk; j0 < min(hi*blk, V); j0 += blk {
			j1 := min(j0+blk, V)
			for h0 := 0; h0 < H; h0 += blk {
				h1 := min(h0+blk, H)
				for j := j0; j < j1; j++ {
					row := m.decoder[j*H : (j+1)*H]
					for h := h0; h < h1; h++ {
						m.decoderT[h*V+j] = row[h]
					}
				}
			}
		}
	})
}

// logitTile sets tile[rows][cols] = h[r0:r0+rows] W[j0:j0+cols]^T + b
// (decoderT must be current).
func (m *Model) logitTile(tile, h []float32, r0, rows, j0, cols int) {
	H, V := m.Config.Hidden, m.Config.Vocab
	kernels.Gemm(false, false, rows, cols, H, 1, h[r0*H:], H, m.decoderT[j0:], V, 0, tile, cols)
	b := m.decBias[j0 : j0+cols]
	for r := 0; r < rows; r++ {
		kernels.Add(tile[r*cols:(r+1)*cols], b)
	}
}

// Forward runs the model on a batch of token id sequences (each with its
// [CLS] and [SEP]) and returns the activations, whose Vectors are the
// SPLADE vectors of the texts.
func (m *Model) Forward(batch [][]int32, pooling kernels.Pooling) (*Activations, error) {
	a := new(Activations)
	return a, m.ForwardInto(a, batch, pooling)
}

// ForwardInto is Forward reusing the buffers of a.
func (m *Model) ForwardInto(a *Activations, batch [][]int32, pooling kernels.Pooling) error {
	if pooling != kernels.PoolMax && pooling != kernels.PoolSum {
		return fmt.Errorf("unknown pooling %d", pooling)
	}
	if err := m.CheckIDs(batch); err != nil {
		return err
	}
	m.encode(a, batch)
	if pooling == kernels.PoolMax {
		m.maxPoolForward(a)
		return nil
	}
	m.transposeDecoder()
	m.sumPoolForward(a)
	return nil
}

// maxPoolForward runs the max-pooled SPLADE head: the kernels' fused
// decoder product keeps, per text and term, only the max logit and its
// row (for the sparse backward); the weight is log(1 + ReLU(max)).
func (m *Model) maxPoolForward(a *Activations) {
	V, H := m.Config.Vocab, m.Config.Hidden
	nseg := len(a.segs) - 1
	a.pooling = kernels.PoolMax
	a.vectors = grow(a.vectors, nseg*V)
	a.maxLog = grow(a.maxLog, nseg*V)
	if cap(a.argmax) < nseg*V {
		a.argmax = make([]int32, nseg*V)
	}
	a.argmax = a.argmax[:nseg*V]
	p := getPacked()
	defer packedPool.Put(p)
	kernels.PackInto(m.pool, p, m.decoder, V, H).MaxLogits(m.pool, a.maxLog, a.argmax, a.head, a.segs, m.decBias)
	// The argmax of an inactive term (max <= 0) is kept: the objectives on
	// max logits (BackwardMaxLogits) use it.
	elementwise(m.pool, nseg*V, func(lo, hi int) {
		for k, z := range a.maxLog[lo:hi] {
			a.vectors[lo+k] = log1p(z)
		}
	})
}

// sumPoolForward runs the sum-pooled SPLADE head (decoderT current): the
// logits of each (row group, vocabulary block) tile are computed and
// reduced at once.
func (m *Model) sumPoolForward(a *Activations) {
	V := m.Config.Vocab
	nseg := len(a.segs) - 1
	a.pooling = kernels.PoolSum
	a.vectors = grow(a.vectors, nseg*V)
	groups := rowGroups(a.segs)
	blocks := (V + colBlock - 1) / colBlock
	ng := len(groups) - 1
	// Every (group, block) tile writes its own outputs.
	m.pool.For(ng*blocks, 1, func(lo, hi int) {
		var tile []float32
		for item := lo; item < hi; item++ {
			g, blk := item%ng, item/ng
			s0, s1 := groups[g], groups[g+1]
			r0, rows := a.segs[s0], a.segs[s1]-a.segs[s0]
			j0 := blk * colBlock
			cols := min(colBlock, V-j0)
			tile = grow(tile, rows*cols)
			m.logitTile(tile, a.head, r0, rows, j0, cols)
			for s := s0; s < s1; s++ {
				out := a.vectors[s*V+j0 : s*V+j0+cols]
				clear(out)
				for i := a.segs[s]; i < a.segs[s+1]; i++ {
					row := tile[(i-r0)*cols : (i-r0+1)*cols]
					for j, z := range row {
						if z > 0 {
							out[j] += log1p(z)
						}
					}
				}
			}
		}
	})
}

// log1p is the saturation log(1 + z) for z > 0, shared with the inference
// kernels so that training and encoding agree bit for bit.
func log1p(z float32) float32 { return kernels.Log1p(z) }

// Backward accumulates into the parameters' gradients the gradient of a
// loss whose derivative with respect to the SPLADE vectors of the forward
// pass a is dVectors ([texts][Vocab], like a.Vectors()).
func (m *Model) Backward(a *Activations, dVectors []float32) error {
	V, H := m.Config.Vocab, m.Config.Hidden
	nseg := len(a.segs) - 1
	if len(dVectors) != nseg*V {
		return fmt.Errorf("backward: %d gradient values for %d texts of %d terms", len(dVectors), nseg, V)
	}
	m.scratch.dHead = grow(m.scratch.dHead, a.n*H)
	dHead := m.scratch.dHead
	clear(dHead)
	if a.pooling == kernels.PoolMax {
		m.maxPoolBackward(a, dVectors, dHead)
	} else {
		m.sumPoolBackward(a, dVectors, dHead)
	}
	m.encodeBackward(a, dHead)
	return nil
}

// maxPoolBackward: for each active (text s, term j) with argmax token i,
// dz = dw / (1 + z) flows to the decoder row j (dW_j += dz h_i, db_j +=
// dz) and to the hidden row i (dh_i += dz W_j).
func (m *Model) maxPoolBackward(a *Activations, dv, dHead []float32) {
	V, H := m.Config.Vocab, m.Config.Hidden
	nseg := len(a.segs) - 1
	dz := func(s, j int) (float32, int) {
		k := s*V + j
		i := a.argmax[k]
		if i < 0 || dv[k] == 0 || a.maxLog[k] <= 0 {
			return 0, -1
		}
		return dv[k] / (1 + a.maxLog[k]), int(i)
	}
	// Decoder rows: workers split the terms.
	m.pool.For(V, 256, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			gw := m.decoderG[j*H : (j+1)*H]
			for s := 0; s < nseg; s++ {
				g, i := dz(s, j)
				if i < 0 {
					continue
				}
				m.decBiasG[j] += g
				kernels.Axpy(gw, g, a.head[i*H:(i+1)*H])
			}
		}
	})
	// Hidden rows: workers split the texts (which own their rows).
	m.pool.For(nseg, 1, func(lo, hi int) {
		for s := lo; s < hi; s++ {
			for j := 0; j < V; j++ {
				g, i := dz(s, j)
				if i < 0 {
					continue
				}
				kernels.Axpy(dHead[i*H:(i+1)*H], g, m.decoder[j*H:(j+1)*H])
			}
		}
	})
}

// sumPoolBackward recomputes the logits tile by tile:
// dz_ij = dw_sj / (1 + z_ij) where z_ij > 0, then dW += dZ^T h,
// db += column sums of dZ, dh += dZ W. Workers split the vocabulary
// blocks (so each owns its decoder rows) and add their dh into private
// buffers, summed in a fixed order at the end.
func (m *Model) sumPoolBackward(a *Activations, dv, dHead []float32) {
	V, H := m.Config.Vocab, m.Config.Hidden
	groups := rowGroups(a.segs)
	ng := len(groups) - 1
	blocks := (V + colBlock - 1) / colBlock
	parts := min(m.pool.Threads(), blocks)
	partial := make([][]float32, parts)
	m.pool.For(parts, 1, func(plo, phi int) {
		for part := plo; part < phi; part++ {
			dh := dHead
			if part > 0 {
				dh = make([]float32, len(dHead))
				partial[part] = dh
			}
			var tile []float32
			for blk := part * blocks / parts; blk < (part+1)*blocks/parts; blk++ {
				j0 := blk * colBlock
				cols := min(colBlock, V-j0)
				for g := 0; g < ng; g++ {
					s0, s1 := groups[g], groups[g+1]
					r0, rows := a.segs[s0], a.segs[s1]-a.segs[s0]
					tile = grow(tile, rows*cols)
					m.logitTile(tile, a.head, r0, rows, j0, cols)
					for s := s0; s < s1; s++ {
						d := dv[s*V+j0 : s*V+j0+cols]
						for i := a.segs[s]; i < a.segs[s+1]; i++ {
							row := tile[(i-r0)*cols : (i-r0+1)*cols]
							for j, z := range row {
								if z > 0 {
									row[j] = d[j] / (1 + z)
								} else {
									row[j] = 0
								}
							}
						}
					}
					for r := 0; r < rows; r++ {
						kernels.Add(m.decBiasG[j0:j0+cols], tile[r*cols:(r+1)*cols])
					}
					kernels.Gemm(true, false, cols, H, rows, 1, tile, cols, a.head[r0*H:], H, 1, m.decoderG[j0*H:], H)
					kernels.Gemm(false, false, rows, H, cols, 1, tile, cols, m.decoder[j0*H:], H, 1, dh[r0*H:], H)
				}
			}
		}
	})
	for _, p := range partial[1:] {
		addInto(m.pool, dHead, p)
	}
}
