package kernels

import "math"

// MaxLogits computes the max-pooled logits of the SPLADE head and where
// they come from, the forward pass that training's sparse backward needs:
// for each text s (rows segs[s]..segs[s+1]-1 of h[m][In]) and term j,
//
//	maxZ[s][j]   = max over its rows i of h_i . W_j + bias_j
//	argmax[s][j] = the first row i attaining it
//
// (-Inf and -1 for a text without rows, or when every logit is NaN). The
// SPLADE weight is log(1 + ReLU(maxZ)). As in SpladePool the logits are
// reduced block by block and never stored; each logit is the
// microkernel's sum over the whole of In plus the bias, so the result does
// not depend on the number of threads.
func (p *Packed) MaxLogits(pool *Pool, maxZ []float32, argmax []int32, h []float32, segs []int, bias []float32) {
	nseg := len(segs) - 1
	if nseg <= 0 || p.Out == 0 {
		return
	}
	m, N := segs[nseg], p.Out
	_, _ = maxZ[nseg*N-1], argmax[nseg*N-1]
	if m > 0 && p.In > 0 {
		_ = h[m*p.In-1]
	}
	if bias != nil {
		_ = bias[N-1]
	}
	mk := current.Load()
	bufp := getScratch(roundUp(m, mk.mr) * p.In)
	defer scratchPool.Put(bufp)
	apack := *bufp
	packAllPar(pool, apack, h, m, p.In, max(1, p.In), mk.mr, false)
	tiles := (N + mk.nr - 1) / mk.nr
	pool.For(tiles, matMulGrain(max(m, 1), p.In, mk.nr), func(lo, hi int) {
		p.maxLogitCols(mk, maxZ, argmax, apack, segs, bias, lo*mk.nr, min(hi*mk.nr, N))
	})
}

// maxRowBlock is the number of rows whose packed hidden states (at most
// ~1 MB for In = 768) a worker keeps in cache while it sweeps its columns.
const maxRowBlock = 256

// maxLogitCols runs MaxLogits for output columns [j0, j1) (j0 a multiple
// of mk.nr), given h packed whole by packAllPar with one K block.
func (p *Packed) maxLogitCols(mk *microKernel, maxZ []float32, argmax []int32, apack []float32, segs []int, bias []float32, j0, j1 int) {
	mr, nr, K, N := mk.mr, mk.nr, p.In, p.Out
	nseg := len(segs) - 1
	m := segs[nseg]
	for s := 0; s < nseg; s++ {
		mx, arg := maxZ[s*N+j0:s*N+j1], argmax[s*N+j0:s*N+j1]
		for j := range mx {
			mx[j], arg[j] = float32(math.Inf(-1)), -1
		}
	}
	bufp := getScratch(mr*nr + nr)
	defer scratchPool.Put(bufp)
	buf := *bufp
	tile, btail := buf[:mr*nr], buf[mr*nr:]
	bstride := uintptr(K * panelW * 4)
	rowBlock := roundUp(maxRowBlock, mr)
	for ic := 0; ic < m; ic += rowBlock {
		ie := min(ic+rowBlock, m)
		for jr := j0; jr < j1; jr += nr {
			cols := min(nr, N-jr)
			var bp *float32
			if K > 0 {
				bp = &p.panels[(jr/panelW)*K*panelW]
			}
			var bb *float32
			if bias != nil {
				if cols == nr {
					bb = &bias[jr]
				} else {
					clear(btail)
					copy(btail, bias[jr:N])
					bb = &btail[0]
				}
			}
			s := 0
			for ir := ic; ir < ie; ir += mr {
				if K > 0 {
					mk.fn(K, &apack[ir*K], bp, bstride, &tile[0], uintptr(nr*4), bb, false)
				} else {
					clear(tile)
					if bias != nil {
						for r := 0; r < mr; r++ {
							copy(tile[r*nr:r*nr+cols], bias[jr:jr+cols])
						}
					}
				}
				// Fold the block's rows into their texts' running maxima,
				// one call per run of rows of the same text.
				end := min(ir+mr, m)
				for r := ir; r < end; {
					for segs[s+1] <= r {
						s++
					}
					e := min(end, segs[s+1])
					maxArgRows(tile[(r-ir)*nr:], nr, e-r, maxZ[s*N+jr:s*N+jr+cols], argmax[s*N+jr:s*N+jr+cols], r)
					r = e
				}
			}
		}
	}
}

// maxArgRows folds rows of z (row stride ldz, len(mx) columns) into the
// running maxima mx and their rows arg: where z[r][j] > mx[j], mx[j] =
// z[r][j] and arg[j] = row0 + r (rows in order, so the first maximum
// wins; NaN never wins).
func maxArgRows(z []float32, ldz, rows int, mx []float32, arg []int32, row0 int) {
	cols := len(mx)
	arg = arg[:cols]
	done := maxArgFast(z, ldz, rows, mx, arg, row0)
	if done == cols {
		return
	}
	for r := 0; r < rows; r++ {
		row := z[r*ldz : r*ldz+cols]
		for j := done; j < cols; j++ {
			if v := row[j]; v > mx[j] {
				mx[j], arg[j] = v, int32(row0+r)
			}
		}
	}
}

// maxRows folds rows of z (row stride ldz, len(mx) columns) into the
// running maxima mx: where z[r][j] > mx[j], mx[j] = z[r][j] (NaN never
// wins).
func maxRows(z []float32, ldz, rows int, mx []float32) {
	if rows <= 0 {
		return
	}
	done := maxRowsFast(z, ldz, rows, mx)
	cols := len(mx)
	for r := 0; r < rows; r++ {
		row := z[r*ldz : r*ldz+cols]
		for j := done; j < cols; j++ {
			if v := row[j]; v > mx[j] {
				mx[j] = v
			}
		}
	}
}
