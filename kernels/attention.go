package kernels

// attnGrainMACs is the least work (multiply-adds) of one parallel chunk of
// Attention: about 10 microseconds of one core, several times the cost of
// handing a chunk to another worker.
const attnGrainMACs = 1 << 19

// Attention computes multi-head scaled dot-product attention,
//
//	ctx = softmax(scale * Q K^T) V    per text and head,
//
// for texts stacked by rows: text s owns rows segs[s]..segs[s+1]-1, and a
// text attends only to its own rows (padded attention with the padding
// masked out). qkv holds the fused projections, [n][3*heads*dh] row-major
// with the query, key and value thirds side by side, head h owning columns
// h*dh..(h+1)*dh-1 of each third; ctx receives [n][heads*dh]. scale must be
// positive (1/sqrt(dh) in BERT).
//
// Attention is under 2% of an encoder's FLOPs but, done as two generic
// Gemm calls per (text, head), cost ~10x that share in overhead. Here each
// (text, head) pair packs Q, K^T, P and V once into one reused scratch
// buffer, the score tiles go straight from the microkernel into a padded
// score matrix, and the scale is folded into the vectorized softmax. The
// arithmetic is that of the two Gemm calls plus Softmax: the scale is
// applied to each fp32 score before the softmax, as Gemm's alpha was.
// Pairs are spread over the pool.
func Attention(pool *Pool, ctx, qkv []float32, segs []int, heads, dh int, scale float32) {
	nseg := len(segs) - 1
	if nseg <= 0 || heads <= 0 || dh <= 0 {
		return
	}
	H := heads * dh
	ld := 3 * H
	n := segs[nseg]
	maxT, work := 0, 0
	for s := 0; s < nseg; s++ {
		T := segs[s+1] - segs[s]
		maxT = max(maxT, T)
		work += 2 * T * T * dh * heads // multiply-adds of Q K^T and P V
	}
	if n <= 0 || maxT == 0 {
		return
	}
	// Check bounds once here: the assembly kernels do not.
	_, _ = qkv[n*ld-1], ctx[n*H-1]
	mk := current.Load()
	mr, nr := mk.mr, mk.nr
	// A short query's heads are a few microseconds of work in all: less
	// than waking a second worker, so chunks get at least attnGrainMACs.
	items := nseg * heads
	grain := max(1, int(int64(items)*attnGrainMACs/int64(max(work, 1))))
	pool.For(items, grain, func(lo, hi int) {
		mp, ldS := roundUp(maxT, mr), roundUp(maxT, nr)
		nv := roundUp(dh, nr)
		qn, kn, sn, pn, vn := mp*dh, ldS*dh, mp*ldS, mp*maxT, nv*maxT
		bufp := getScratch(qn + kn + sn + pn + vn + mr*nr)
		defer scratchPool.Put(bufp)
		buf := *bufp
		qa, buf := buf[:qn], buf[qn:]
		kb, buf := buf[:kn], buf[kn:]
		sc, buf := buf[:sn], buf[sn:]
		pa, buf := buf[:pn], buf[pn:]
		vb, tile := buf[:vn], buf[vn:]
		for item := lo; item < hi; item++ {
			s, h := item/heads, item%heads
			r0, T := segs[s], segs[s+1]-segs[s]
			if T == 0 {
				continue
			}
			attendHead(mk, ctx[r0*H+h*dh:], H, qkv[r0*ld+h*dh:], ld, H, T, dh, scale, qa, kb, sc, pa, vb, tile)
		}
	})
}

// attendHead computes one (text, head) pair of Attention: q starts at the
// text's first query element of the head, keys at q[H:] and values at
// q[2H:], all with row stride ld; the T x dh result goes to c (row stride
// ldc). The other slices are scratch sized for T.
func attendHead(mk *microKernel, c []float32, ldc int, q []float32, ld, H, T, dh int, scale float32, qa, kb, sc, pa, vb, tile []float32) {
	mr, nr := mk.mr, mk.nr
	mp, ldS := roundUp(T, mr), roundUp(T, nr)
	k, v := q[H:], q[2*H:]
	// Scores S = Q K^T into a matrix padded to whole tiles (the padding
	// rows and columns come out 0 from the zero-padded packs and are
	// never read), so every tile is stored by the microkernel directly.
	packA(qa, q, T, dh, ld, 1, mr)
	// K^T in 16-column panels ([panel][l][16]) is K in 16-row A blocks
	// ([block][l][16]); packA's row-wise reads are much faster than
	// packB's strided gather. A last all-padding panel is cleared.
	packA(kb, k, T, dh, ld, 1, panelW)
	clear(kb[roundUp(T, panelW)*dh : ldS*dh])
	bstride := uintptr(dh * panelW * 4)
	for jr := 0; jr < ldS; jr += nr {
		bp := &kb[(jr/panelW)*dh*panelW]
		for ir := 0; ir < mp; ir += mr {
			mk.fn(dh, &qa[ir*dh], bp, bstride, &sc[ir*ldS+jr], uintptr(ldS*4), nil, false)
		}
	}
	for i := 0; i < T; i++ {
		softmaxScaled(sc[i*ldS:i*ldS+T], scale)
	}
	// Context = P V.
	packA(pa, sc, T, T, ldS, 1, mr)
	nv := roundUp(dh, nr) / panelW
	packB(vb, v, T, dh, ld, 1, nv)
	bstride = uintptr(T * panelW * 4)
	for jr := 0; jr < dh; jr += nr {
		cols := min(nr, dh-jr)
		bp := &vb[(jr/panelW)*T*panelW]
		for ir := 0; ir < T; ir += mr {
			rows := min(mr, T-ir)
			if rows == mr && cols == nr {
				mk.fn(T, &pa[ir*T], bp, bstride, &c[ir*ldc+jr], uintptr(ldc*4), nil, false)
				continue
			}
			mk.fn(T, &pa[ir*T], bp, bstride, &tile[0], uintptr(nr*4), nil, false)
			mergeTile(c[ir*ldc+jr:], ldc, tile, nr, rows, cols, false)
		}
	}
}
