package kernels

import "sync"

// panelW is the width of a packed B panel (one AVX-512 vector of floats);
// wider microkernels read several adjacent panels.
const panelW = 16

// ncBlock is the number of output columns a worker sweeps per K block, so
// that the B block (kc x ncBlock) stays in L2 or L3 while A blocks stream
// past.
const ncBlock = 512

// packB writes the k x n matrix B(l, j) = b[l*rs + j*cs] into 16-column
// panels ([panel][l][16], zero-padded to np panels).
func packB(dst, b []float32, k, n, rs, cs, np int) {
	for pn := 0; pn < np; pn++ {
		d := dst[pn*k*panelW : (pn+1)*k*panelW]
		j0 := pn * panelW
		w := min(panelW, n-j0)
		if w <= 0 {
			clear(d)
			continue
		}
		if rs == 1 && w == panelW && k > 0 {
			// B is the transpose of row-major rows (a weight matrix
			// [out][in]): transpose 8 rows at a time.
			packRows8(d, panelW, b[j0*cs:], cs, k)
			packRows8(d[8:], panelW, b[(j0+8)*cs:], cs, k)
			continue
		}
		if cs == 1 && w == panelW && k > 0 {
			_ = b[(k-1)*rs+j0+panelW-1]
			if copyRowsFast(d, panelW, b[j0:], rs, k, panelW) {
				continue
			}
		}
		for l := 0; l < k; l++ {
			row := d[l*panelW : (l+1)*panelW]
			if cs == 1 {
				copy(row, b[l*rs+j0:l*rs+j0+w])
			} else {
				for j := 0; j < w; j++ {
					row[j] = b[l*rs+(j0+j)*cs]
				}
			}
			clear(row[w:])
		}
	}
}

// packA writes rows [0, mb) and columns [0, kb) of A(i, l) = a[i*rs + l*cs]
// into mr-row blocks ([block][l][mr], zero-padded rows).
func packA(dst, a []float32, mb, kb, rs, cs, mr int) {
	for i0 := 0; i0 < mb; i0 += mr {
		d := dst[i0*kb : (i0+mr)*kb]
		rows := min(mr, mb-i0)
		if rows < mr {
			clear(d)
		}
		if cs == 1 && rows == mr && mr%8 == 0 {
			// Row-major source: gather 8 rows per pass, writing d
			// sequentially (the strided-store loop below is ~3x slower).
			for r := 0; r < mr; r += 8 {
				packRows8(d[r:], mr, a[(i0+r)*rs:], rs, kb)
			}
			continue
		}
		if rs == 1 && rows == mr && mr%8 == 0 && kb > 0 {
			// Transposed source: each k step is mr contiguous floats.
			_ = a[i0+(kb-1)*cs+mr-1]
			for r := 0; r < mr; r += 8 {
				if !copyRowsFast(d[r:], mr, a[i0+r:], cs, kb, 8) {
					for l := 0; l < kb; l++ {
						copy(d[l*mr+r:l*mr+r+8], a[i0+r+l*cs:])
					}
				}
			}
			continue
		}
		if cs == 1 {
			for r := 0; r < rows; r++ {
				src := a[(i0+r)*rs : (i0+r)*rs+kb]
				for l, v := range src {
					d[l*mr+r] = v
				}
			}
			continue
		}
		for l := 0; l < kb; l++ {
			for r := 0; r < rows; r++ {
				d[l*mr+r] = a[(i0+r)*rs+l*cs]
			}
		}
	}
}

// packRows8 writes a[r*rs+l] to d[l*ds+r] for r < 8 and l < kb.
func packRows8(d []float32, ds int, a []float32, rs, kb int) {
	if kb <= 0 {
		return
	}
	_, _ = d[(kb-1)*ds+7], a[7*rs+kb-1]
	done := packRows8Fast(d, ds, a, rs, kb)
	if done == kb {
		return
	}
	d, a, kb = d[done*ds:], a[done:], kb-done
	a0 := a[:kb]
	a1 := a[rs:][:len(a0)]
	a2 := a[2*rs:][:len(a0)]
	a3 := a[3*rs:][:len(a0)]
	a4 := a[4*rs:][:len(a0)]
	a5 := a[5*rs:][:len(a0)]
	a6 := a[6*rs:][:len(a0)]
	a7 := a[7*rs:][:len(a0)]
	for l := range a0 {
		o := (*[8]float32)(d[l*ds:])
		o[0], o[1], o[2], o[3] = a0[l], a1[l], a2[l], a3[l]
		o[4], o[5], o[6], o[7] = a4[l], a5[l], a6[l], a7[l]
	}
}

// kBlock is the inner-dimension block of a product. Blocking K (the usual
// GotoBLAS kc of a few hundred) makes every microkernel call after the
// first reload its C tile, which by then has left the cache: measured on
// Zen 4 (BenchmarkMatMul, GFLOP/cpu-s) the encoder's products ran 5-10%
// faster with K whole (up to 3072) than in blocks of 256, the packed B
// panels streaming from L2 under the prefetches. Only very long sums (the
// weight gradients of training, summed over a batch's thousands of
// tokens) are cut, into equal blocks of at most maxKBlock, so that a
// microkernel's A and B panels stay in L2. The blocking depends on K
// alone, never on m or the thread count.
func kBlock(K int) int {
	if K <= 2*maxKBlock {
		return max(1, K)
	}
	n := (K + maxKBlock - 1) / maxKBlock
	return (K + n - 1) / n
}

// maxKBlock bounds the K blocks of products with K > 2*maxKBlock.
const maxKBlock = 2048

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// scratch buffers are reused across calls to keep the hot paths free of
// large allocations.
var scratchPool = sync.Pool{New: func() any { return new([]float32) }}

func getScratch(n int) *[]float32 {
	s := scratchPool.Get().(*[]float32)
	if cap(*s) < n {
		*s = make([]float32, n)
	}
	*s = (*s)[:n]
	return s
}

// mergeTile stores (or adds, when accum) the top-left rows x cols of a
// tile with row stride ldt into c (row stride ldc).
func mergeTile(c []float32, ldc int, tile []float32, ldt, rows, cols int, accum bool) {
	for r := 0; r < rows; r++ {
		dst := c[r*ldc : r*ldc+cols]
		src := tile[r*ldt : r*ldt+cols]
		if accum {
			for j, v := range src {
				dst[j] += v
			}
		} else {
			copy(dst, src)
		}
	}
}

// matMulCols computes columns [j0, j1) of y = x W^T + bias for all m rows;
// j0 is a multiple of mk.nr.
// With gelu set it applies GELU to each block right after its last K pass,
// while the block is still in cache.
func (p *Packed) matMulCols(mk *microKernel, y, apackAll []float32, m int, o mmOpts, j0, j1 int) {
	bias, gelu := o.bias, o.gelu
	mr, nr, K, N := mk.mr, mk.nr, p.In, p.Out
	kc := kBlock(K)
	mc := min(roundUp(mk.mc, mr), roundUp(m, mr))
	mp := roundUp(m, mr)
	bufp := getScratch(mr*nr + nr)
	defer scratchPool.Put(bufp)
	buf := *bufp
	tile, btail := buf[:mr*nr], buf[mr*nr:]
	bstride := uintptr(K * panelW * 4)
	for jc := j0; jc < j1; jc += ncBlock {
		jn := min(ncBlock, j1-jc)
		for pc := 0; pc < K; pc += kc {
			kb := min(kc, K-pc)
			accum, last := pc > 0 || o.accum, pc+kb == K
			for ic := 0; ic < m; ic += mc {
				mb := min(mc, m-ic)
				// A was packed once for all workers (packAllPar): block (pc, ic).
				apack := apackAll[pc*mp+ic*kb:]
				for jr := jc; jr < jc+jn; jr += nr {
					bp := &p.panels[(jr/panelW)*K*panelW+pc*panelW]
					cols := min(nr, N-jr)
					var bb *float32
					if last && bias != nil {
						if cols == nr {
							bb = &bias[jr]
						} else {
							clear(btail)
							copy(btail, bias[jr:N])
							bb = &btail[0]
						}
					}
					for ir := 0; ir < mb; ir += mr {
						rows := min(mr, mb-ir)
						a := &apack[ir*kb]
						if rows == mr && cols == nr {
							mk.fn(kb, a, bp, bstride, &y[(ic+ir)*N+jr], uintptr(N*4), bb, accum)
							continue
						}
						mk.fn(kb, a, bp, bstride, &tile[0], uintptr(nr*4), bb, false)
						mergeTile(y[(ic+ir)*N+jr:], N, tile, nr, rows, cols, accum)
					}
				}
				if gelu && last {
					for i := ic; i < ic+mb; i++ {
						GELU(y[i*N+jc : i*N+jc+jn])
					}
				}
			}
		}
	}
}

// matMulGrain is the number of column tiles per parallel chunk that makes
// a chunk worth a goroutine (about a million multiply-adds).
func matMulGrain(m, k, nr int) int {
	return max(1, (1<<20)/max(1, m*k*nr))
}

// spladeCols runs the SPLADE head for output columns [j0, j1) (j0 a
// multiple of mk.nr) given A packed whole by packAllPar.
func (p *Packed) spladeCols(mk *microKernel, out, apack []float32, m int, segs []int, bias []float32, mode Pooling, j0, j1 int) {
	mr, nr, K, N := mk.mr, mk.nr, p.In, p.Out
	kc := kBlock(K)
	mp := roundUp(m, mr)
	bufp := getScratch(mp*nr + nr + nr)
	defer scratchPool.Put(bufp)
	buf := *bufp
	tile, btail, red := buf[:mp*nr], buf[mp*nr:mp*nr+nr], buf[mp*nr+nr:]
	bstride := uintptr(K * panelW * 4)
	nseg := len(segs) - 1
	for jr := j0; jr < j1; jr += nr {
		cols := min(nr, N-jr)
		for pc := 0; pc < K; pc += kc {
			kb := min(kc, K-pc)
			bp := &p.panels[(jr/panelW)*K*panelW+pc*panelW]
			var bb *float32
			if pc+kb == K && bias != nil {
				if cols == nr {
					bb = &bias[jr]
				} else {
					clear(btail)
					copy(btail, bias[jr:N])
					bb = &btail[0]
				}
			}
			ab := apack[pc*mp:]
			for ir := 0; ir < m; ir += mr {
				mk.fn(kb, &ab[ir*kb], bp, bstride, &tile[ir*nr], uintptr(nr*4), bb, pc > 0)
			}
		}
		if K == 0 {
			clear(tile)
			if bias != nil {
				for i := 0; i < m; i++ {
					copy(tile[i*nr:i*nr+cols], bias[jr:jr+cols])
				}
			}
		}
		for s := 0; s < nseg; s++ {
			clear(red)
			if mode == PoolMax {
				// log1p(relu(.)) is monotonic: reduce the raw logits, then
				// transform once per term.
				maxRows(tile[segs[s]*nr:], nr, segs[s+1]-segs[s], red)
				for j := range red {
					red[j] = log1pf(red[j])
				}
			} else {
				for i := segs[s]; i < segs[s+1]; i++ {
					row := tile[i*nr : i*nr+nr]
					for j, z := range row {
						if z > 0 {
							red[j] += log1pf(z)
						}
					}
				}
			}
			copy(out[s*N+jr:s*N+jr+cols], red[:cols])
		}
	}
}

// packAllPar packs all of the m x K matrix x (given as [K][m] when
// transX): K block pc (of width kb) starts at pc*roundUp(m, mr) and holds
// [row block][kb][mr]; the row blocks are spread over the pool. Packing
// x once, shared by the workers that split the output columns, avoids
// repacking it for every column block (that cost ~13% of encoder time).
func packAllPar(pool *Pool, dst, x []float32, m, K, kc, mr int, transX bool) {
	mp := roundUp(m, mr)
	blocks := mp / mr
	pool.For(blocks, max(1, 8192/max(1, K)), func(lo, hi int) {
		r0, r1 := lo*mr, min(hi*mr, m)
		for pc := 0; pc < K; pc += kc {
			kb := min(kc, K-pc)
			d := dst[pc*mp+r0*kb : pc*mp+hi*mr*kb]
			if transX {
				packA(d, x[pc*m+r0:], r1-r0, kb, 1, m, mr)
			} else {
				packA(d, x[r0*K+pc:], r1-r0, kb, K, 1, mr)
			}
		}
	})
}

// gemmPacked is the fast path of Gemm: it packs both operands and runs the
// microkernel over the whole (unblocked) inner dimension.
func gemmPacked(mk *microKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	mr, nr := mk.mr, mk.nr
	mp, np := roundUp(m, mr), roundUp(n, nr)/panelW
	bufp := getScratch(mp*k + np*panelW*k + mr*nr)
	defer scratchPool.Put(bufp)
	buf := *bufp
	ap, bpk, tile := buf[:mp*k], buf[mp*k:mp*k+np*panelW*k], buf[mp*k+np*panelW*k:]
	if transA {
		packA(ap, a, m, k, 1, lda, mr)
	} else {
		packA(ap, a, m, k, lda, 1, mr)
	}
	if transB {
		packB(bpk, b, k, n, 1, ldb, np)
	} else {
		packB(bpk, b, k, n, ldb, 1, np)
	}
	bstride := uintptr(k * panelW * 4)
	direct := alpha == 1 && (beta == 0 || beta == 1)
	for jr := 0; jr < n; jr += nr {
		cols := min(nr, n-jr)
		bp := &bpk[(jr/panelW)*k*panelW]
		for ir := 0; ir < m; ir += mr {
			rows := min(mr, m-ir)
			if direct && rows == mr && cols == nr {
				mk.fn(k, &ap[ir*k], bp, bstride, &c[ir*ldc+jr], uintptr(ldc*4), nil, beta == 1)
				continue
			}
			mk.fn(k, &ap[ir*k], bp, bstride, &tile[0], uintptr(nr*4), nil, false)
			for r := 0; r < rows; r++ {
				dst := c[(ir+r)*ldc+jr : (ir+r)*ldc+jr+cols]
				src := tile[r*nr : r*nr+cols]
				if beta == 0 {
					for j, v := range src {
						dst[j] = alpha * v
					}
				} else {
					for j, v := range src {
						dst[j] = alpha*v + beta*dst[j]
					}
				}
			}
		}
	}
}
