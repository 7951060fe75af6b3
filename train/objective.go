package train

import (
	"fmt"
	"math"
)

// The SPLADE training objective (Formal et al., SIGIR 2021 and SPLADE v2):
//
//	L = L_rank + lambda_q(t) R(queries) + lambda_d(t) R(documents)
//	  [+ MarginMSE distillation] [+ regression onto teacher query vectors]
//
// Every function here takes SPLADE vectors as dense rows ([texts][V],
// row-major, as Activations.Vectors returns them), returns the value of
// its loss and ADDS weight x its gradient into a caller's buffer of the
// same layout, so that the parts of L are summed into one dVectors for
// Model.Backward while their values are logged separately. Scores are the
// dot products s(q, d) = sum_j q_j d_j; they are computed over the
// non-zeros of the document rows (SPLADE vectors are mostly exact zeros),
// which gives the exact dense gradient.

// Scores returns S[i*nd+k] = q_i . d_k for the nq = len(q)/V query rows
// and nd = len(d)/V document rows.
func Scores(q, d []float32, V int) []float64 {
	nq, nd := len(q)/V, len(d)/V
	S := make([]float64, nq*nd)
	for k := 0; k < nd; k++ {
		dk := d[k*V : (k+1)*V]
		nz := nonzeros(dk)
		for i := 0; i < nq; i++ {
			qi := q[i*V : (i+1)*V]
			var s float64
			for _, j := range nz {
				s += float64(qi[j]) * float64(dk[j])
			}
			S[i*nd+k] = s
		}
	}
	return S
}

// ScoresBackward adds the gradient of a loss with gradient dS with respect
// to the scores (layout of Scores) into dq and dd:
// dq_i += sum_k dS_ik d_k and dd_k += sum_i dS_ik q_i.
func ScoresBackward(q, d []float32, V int, dS []float64, dq, dd []float32) {
	nq, nd := len(q)/V, len(d)/V
	for k := 0; k < nd; k++ {
		dk := d[k*V : (k+1)*V]
		nz := nonzeros(dk)
		ddk := dd[k*V : (k+1)*V]
		for i := 0; i < nq; i++ {
			g := dS[i*nd+k]
			if g == 0 {
				continue
			}
			dqi := dq[i*V : (i+1)*V]
			for _, j := range nz {
				dqi[j] += float32(g * float64(dk[j]))
			}
			qi := q[i*V : (i+1)*V]
			for j, v := range qi {
				if v != 0 {
					ddk[j] += float32(g * float64(v))
				}
			}
		}
	}
}

// nonzeros returns the indices of the non-zero entries of w.
func nonzeros(w []float32) []int32 {
	var nz []int32
	for j, v := range w {
		if v != 0 {
			nz = append(nz, int32(j))
		}
	}
	return nz
}

// RankingCE is the contrastive ranking loss of SPLADE: for each query i a
// softmax cross-entropy of its positive document pos[i] against every
// document of the batch (its BM25 hard negative and the other queries'
// positives and negatives, the "in-batch negatives"), averaged over the
// queries:
//
//	L = -1/nq sum_i log( exp S_i,pos(i) / sum_k exp S_ik )
//
// S is nq x nd (Scores). Documents k with skip(i, k) true are left out of
// query i's softmax: another query's positive that is also relevant to
// query i must not be pushed down. skip may be nil. It adds weight x
// dL/dS into dS and returns L.
func RankingCE(S []float64, nq, nd int, pos []int, skip func(i, k int) bool, weight float64, dS []float64) (float64, error) {
	if len(S) != nq*nd || len(dS) != nq*nd || len(pos) != nq {
		return 0, fmt.Errorf("ranking loss: %d scores, %d gradients, %d positives for %d x %d", len(S), len(dS), len(pos), nq, nd)
	}
	var loss float64
	for i := 0; i < nq; i++ {
		p := pos[i]
		if p < 0 || p >= nd {
			return 0, fmt.Errorf("ranking loss: query %d: positive %d outside the %d documents", i, p, nd)
		}
		row := S[i*nd : (i+1)*nd]
		in := func(k int) bool { return k == p || skip == nil || !skip(i, k) }
		mx := math.Inf(-1)
		for k, s := range row {
			if in(k) {
				mx = math.Max(mx, s)
			}
		}
		var sum float64
		for k, s := range row {
			if in(k) {
				sum += math.Exp(s - mx)
			}
		}
		lse := mx + math.Log(sum)
		loss += lse - row[p]
		g := dS[i*nd : (i+1)*nd]
		for k, s := range row {
			if in(k) {
				g[k] += weight * math.Exp(s-lse) / float64(nq)
			}
		}
		g[p] -= weight / float64(nq)
	}
	return loss / float64(nq), nil
}

// MarginMSE is the distillation loss of Hofstätter et al. (2020) used by
// SPLADE v2 and SPLADE++: the student's margin s(q, d+) - s(q, d-) is
// regressed onto the teacher's (a cross-encoder's) margin,
//
//	L = 1/n sum_i ((S_i,pos(i) - S_i,neg(i)) - margin_i)^2
//
// over the queries with use[i] true (n of them; use nil means all). It
// adds weight x dL/dS into dS and returns L (0 when no query is used).
func MarginMSE(S []float64, nq, nd int, pos, neg []int, margin []float64, use []bool, weight float64, dS []float64) (float64, error) {
	if len(S) != nq*nd || len(dS) != nq*nd || len(pos) != nq || len(neg) != nq || len(margin) != nq || (use != nil && len(use) != nq) {
		return 0, fmt.Errorf("margin-MSE: inconsistent sizes for %d queries x %d documents", nq, nd)
	}
	n := 0
	for i := 0; i < nq; i++ {
		if use == nil || use[i] {
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	var loss float64
	for i := 0; i < nq; i++ {
		if use != nil && !use[i] {
			continue
		}
		p, q := pos[i], neg[i]
		if p < 0 || p >= nd || q < 0 || q >= nd {
			return 0, fmt.Errorf("margin-MSE: query %d: documents %d, %d outside the %d", i, p, q, nd)
		}
		r := S[i*nd+p] - S[i*nd+q] - margin[i]
		loss += r * r
		g := weight * 2 * r / float64(n)
		dS[i*nd+p] += g
		dS[i*nd+q] -= g
	}
	return loss / float64(n), nil
}

// FLOPS is the regularizer of the SPLADE paper (after Paria et al. 2020),
// a smooth proxy of the number of multiplications of retrieval:
//
//	R = sum_j (1/N sum_i w_ij)^2
//
// It penalizes terms that are active in many texts of the batch far more
// than rare ones, which pushes towards a flat posting-list distribution
// rather than merely short vectors. It adds weight x dR/dw into grad and
// returns R.
func FLOPS(w []float32, V int, weight float64, grad []float32) float64 {
	n := len(w) / V
	if n == 0 {
		return 0
	}
	mean := make([]float64, V)
	for i := 0; i < n; i++ {
		for j, v := range w[i*V : (i+1)*V] {
			mean[j] += float64(v)
		}
	}
	var r float64
	for j := range mean {
		mean[j] /= float64(n)
		r += mean[j] * mean[j]
	}
	if weight != 0 {
		for i := 0; i < n; i++ {
			g := grad[i*V : (i+1)*V]
			for j := range g {
				if mean[j] != 0 {
					g[j] += float32(weight * 2 * mean[j] / float64(n))
				}
			}
		}
	}
	return r
}

// L1 is the plain sparsity regularizer R = 1/N sum_i sum_j |w_ij| (the
// SPLADE paper's alternative to FLOPS, used on queries by later SPLADE
// versions). SPLADE weights are never negative, so where w_ij = 0 it
// takes the subgradient 0. It adds weight x dR/dw into grad and returns R.
func L1(w []float32, V int, weight float64, grad []float32) float64 {
	n := len(w) / V
	if n == 0 {
		return 0
	}
	var r float64
	inv := weight / float64(n)
	for k, v := range w {
		switch {
		case v > 0:
			r += float64(v)
			grad[k] += float32(inv)
		case v < 0:
			r -= float64(v)
			grad[k] -= float32(inv)
		}
	}
	return r / float64(n)
}

// Regularizer names a sparsity regularizer.
type Regularizer string

// The regularizers.
const (
	RegFLOPS Regularizer = "flops"
	RegL1    Regularizer = "l1"
)

// Apply computes the regularizer on w (see FLOPS and L1).
func (r Regularizer) Apply(w []float32, V int, weight float64, grad []float32) (float64, error) {
	switch r {
	case RegFLOPS:
		return FLOPS(w, V, weight, grad), nil
	case RegL1:
		return L1(w, V, weight, grad), nil
	}
	return 0, fmt.Errorf("unknown regularizer %q (want flops or l1)", string(r))
}

// RampLambda returns the regularization weight at step t (from 0): the
// SPLADE paper raises lambda quadratically, lambda (t/T)^2, until step T
// and keeps it constant afterwards; early in training a full lambda would
// zero the vectors before the ranking loss has shaped them. T <= 0 means
// no ramp.
func RampLambda(lambda float64, t, T int) float64 {
	if T <= 0 || t >= T {
		return lambda
	}
	r := float64(t) / float64(T)
	return lambda * r * r
}

// Teacher-vector regression and dead ReLUs.
//
// Regressing the student's weights w_j = log(1 + ReLU(m_j)) (m_j the
// max-pooled logit of term j) onto a teacher's sparse vector with a plain
// squared error collapses: a term whose logit is negative gets no
// gradient through the ReLU, so once a teacher term falls below zero it
// can never come back, until the vectors are all zero. TeacherRegression
// therefore regresses, for the terms the teacher uses (t_j > 0), a smooth
// surrogate of the weight computed from the max-pooled logit itself,
//
//	g(m) = log(1 + softplus(m)),   softplus(m) = log(1 + e^m),
//
// which equals the SPLADE weight up to softplus(m) - ReLU(m) <= log 2
// (much less for |m| > 2) and has the derivative
// g'(m) = sigmoid(m) / (1 + softplus(m)) > 0 everywhere: a teacher term
// the student has switched off still pulls its logit up.
//
// Terms the teacher does not use are penalized by the SPLADE weight
// itself, w_j^2: they only need to be off, and once off they get no
// gradient. Pushing them further (as the surrogate would, with a gradient
// that fades like e^(2m) but never vanishes) moves all 30,000 decoder rows
// the same way at every step; with Adam, whose steps do not shrink with
// the gradient, and a decoder tied to the input embeddings, that drags
// every embedding towards one direction until the model's output no
// longer depends on its input.
//
// The gradient flows into the max logits (Activations.MaxLogits) and
// through Model.BackwardMaxLogits, which routes it to each term's argmax
// token whether the term is active or not.

// TeacherRegression returns
//
//	L = 1/N sum_i [ sum_{j: t_ij > 0} (g(m_ij) - t_ij)^2 + sum_{j: t_ij = 0} w(m_ij)^2 ]
//
// with w(m) = log(1 + ReLU(m)), for the max-pooled logits m and teacher
// weights t ([N][V] each; use[i] false leaves row i out, use nil means all
// rows), adds weight x dL/dm into dm, and returns L (0 when no row is
// used).
func TeacherRegression(m, teacher []float32, V int, use []bool, weight float64, dm []float32) (float64, error) {
	if len(m) != len(teacher) || len(dm) != len(m) || len(m)%V != 0 {
		return 0, fmt.Errorf("teacher regression: %d logits, %d teacher weights, %d gradients, vocabulary %d", len(m), len(teacher), len(dm), V)
	}
	N := len(m) / V
	if use != nil && len(use) != N {
		return 0, fmt.Errorf("teacher regression: %d flags for %d rows", len(use), N)
	}
	n := 0
	for i := 0; i < N; i++ {
		if use == nil || use[i] {
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	var loss float64
	for i := 0; i < N; i++ {
		if use != nil && !use[i] {
			continue
		}
		for k := i * V; k < (i+1)*V; k++ {
			x := float64(m[k])
			if teacher[k] <= 0 {
				if x > 0 {
					w := math.Log1p(x)
					loss += w * w
					dm[k] += float32(weight * 2 * w / (1 + x) / float64(n))
				}
				continue
			}
			sp := softplus(x)
			g := math.Log1p(sp)
			r := g - float64(teacher[k])
			loss += r * r
			dm[k] += float32(weight * 2 * r * sigmoid(x) / (1 + sp) / float64(n))
		}
	}
	return loss / float64(n), nil
}

func softplus(x float64) float64 {
	if x > 30 {
		return x
	}
	return math.Log1p(math.Exp(x))
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// PresenceLoss returns
//
//	L = 1/N sum_{i: use_i} softplus(-4 z_i) / 4
//
// a sharpened binary cross-entropy of "this token's term is in its text",
// on the token logits z (Activations.TokenLogits) of N texts, and adds
// weight x dL/dz into dz. It complements TeacherRegression in the lexical
// warm start: there the gradient of a used term reaches only the token
// where its max-pooled logit peaks, which in a model that does not yet
// copy its input is any token, and 30,000 unused terms outvote the used
// ones, so a model from scratch switches everything off and stays there.
// Here each token's own logit gets a pull of nearly 1 however negative it
// is, at the position where the term occurs; the sharpening (factor 4)
// makes the pull fade soon after the term is on (0.02 at z = 1), leaving
// its weight to the regression.
func PresenceLoss(z []float32, use []bool, N int, weight float64, dz []float32) (float64, error) {
	if len(use) != len(z) || len(dz) != len(z) || N <= 0 {
		return 0, fmt.Errorf("presence loss: %d token logits, %d flags, %d gradients, %d texts", len(z), len(use), len(dz), N)
	}
	const sharp = 4
	var loss float64
	for i, x := range z {
		if !use[i] {
			continue
		}
		loss += softplus(-sharp*float64(x)) / sharp
		dz[i] -= float32(weight * sigmoid(-sharp*float64(x)) / float64(N))
	}
	return loss / float64(N), nil
}
