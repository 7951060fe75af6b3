package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/splade-go/splade/kernels"
	"github.com/splade-go/splade/model"
)

// Finite-difference checks of every layer's backward and of the whole
// model. Everything runs in float32, so the checks use central
// differences with a step large enough for float32 rounding noise to stay
// small (eps) and compare with a relative error on a floor (gradients
// below the floor are compared absolutely: the noise of a float32 central
// difference is about 1e-3 here).
//
// ReLU and max pooling are not differentiable everywhere: where the
// stencil [w-eps, w+eps] straddles a kink (an argmax changes, a logit
// crosses 0), the two one-sided differences disagree. Such entries are
// skipped, and a check fails when more than a third of its entries are.

const (
	fdEps   = 1e-3
	fdTol   = 2e-2 // relative error allowed
	fdFloor = 5e-2 // |gradient| below which the error is taken absolutely
)

func randSlice(r *rand.Rand, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(scale * r.NormFloat64())
	}
	return x
}

// dot64 returns sum r_i y_i in float64: the scalar loss of the checks.
func dot64(r, y []float32) float64 {
	var s float64
	for i := range r {
		s += float64(r[i]) * float64(y[i])
	}
	return s
}

// checkGrad compares analytic gradients grad of f with respect to w with
// central differences at the indices idx (all when nil).
func checkGrad(t *testing.T, name string, f func() float64, w, grad []float32, idx []int) {
	t.Helper()
	if idx == nil {
		idx = make([]int, len(w))
		for i := range idx {
			idx[i] = i
		}
	}
	bad, kinks := 0, 0
	f0 := f()
	for _, k := range idx {
		orig := w[k]
		w[k] = orig + fdEps
		fp := f()
		w[k] = orig - fdEps
		fm := f()
		w[k] = orig
		fd := (fp - fm) / (2 * fdEps)
		an := float64(grad[k])
		fwd, bwd := (fp-f0)/fdEps, (f0-fm)/fdEps
		if math.Abs(fwd-bwd) > 0.2*math.Max(math.Abs(fd), fdFloor) {
			kinks++
			continue
		}
		if e := math.Abs(fd-an) / math.Max(math.Abs(fd), fdFloor); e > fdTol {
			if bad < 5 {
				t.Errorf("%s[%d]: analytic %.6g, finite difference %.6g (rel. error %.3g)", name, k, an, fd, e)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d entries wrong", name, bad, len(idx))
	}
	if 3*kinks > len(idx) {
		t.Errorf("%s: %d of %d entries at a kink", name, kinks, len(idx))
	}
}

func TestLinearGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	pool := kernels.NewPool(2)
	for _, sz := range []struct{ n, in, out int }{{3, 5, 4}, {70, 9, 37}} {
		l := linear{in: sz.in, out: sz.out, w: randSlice(r, sz.out*sz.in, 0.5), b: randSlice(r, sz.out, 0.5),
			gw: make([]float32, sz.out*sz.in), gb: make([]float32, sz.out)}
		x := randSlice(r, sz.n*sz.in, 1)
		rr := randSlice(r, sz.n*sz.out, 1)
		y := make([]float32, sz.n*sz.out)
		f := func() float64 { l.forward(pool, y, x, sz.n); return dot64(rr, y) }
		dx := randSlice(r, sz.n*sz.in, 1) // accumulate onto a known value
		dx0 := append([]float32(nil), dx...)
		l.backward(pool, dx, rr, x, sz.n, true)
		for i := range dx {
			dx[i] -= dx0[i]
		}
		name := fmt.Sprintf("linear%dx%dx%d", sz.n, sz.in, sz.out)
		checkGrad(t, name+".x", f, x, dx, nil)
		checkGrad(t, name+".w", f, l.w, l.gw, nil)
		checkGrad(t, name+".b", f, l.b, l.gb, nil)
	}
}

func TestLayerNormGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 1))
	const n, d = 5, 7
	ln := layerNorm{dim: d, eps: 1e-12, gamma: randSlice(r, d, 1), beta: randSlice(r, d, 1),
		gGamma: make([]float32, d), gBeta: make([]float32, d)}
	x := randSlice(r, n*d, 1)
	rr := randSlice(r, n*d, 1)
	y := make([]float32, n*d)
	mean, rstd := make([]float32, n), make([]float32, n)
	f := func() float64 { ln.forward(nil, y, x, mean, rstd, n); return dot64(rr, y) }
	f()
	dx := make([]float32, n*d)
	ln.backward(nil, dx, rr, x, mean, rstd, n)
	checkGrad(t, "layernorm.x", f, x, dx, nil)
	checkGrad(t, "layernorm.gamma", f, ln.gamma, ln.gGamma, nil)
	checkGrad(t, "layernorm.beta", f, ln.beta, ln.gBeta, nil)

	// It computes what kernels.LayerNorm computes, bit for bit.
	f()
	want := append([]float32(nil), x...)
	kernels.LayerNorm(want, n, d, ln.gamma, ln.beta, ln.eps)
	for i := range y {
		if y[i] != want[i] {
			t.Fatalf("layernorm forward[%d] = %g, kernels.LayerNorm %g", i, y[i], want[i])
		}
	}
}

func TestGELUGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 1))
	x := randSlice(r, 200, 2)
	x = append(x, 0, -6, 6, 0.5, -0.5, 3.9, -3.9, 12, -12)
	rr := randSlice(r, len(x), 1)
	y := make([]float32, len(x))
	f := func() float64 { geluForward(nil, y, x); return dot64(rr, y) }
	dx := make([]float32, len(x))
	geluBackward(nil, dx, rr, x)
	checkGrad(t, "gelu", f, x, dx, nil)
	// The derivative against float64 erf: Phi(x) + x phi(x).
	ones := make([]float32, len(x))
	for i := range ones {
		ones[i] = 1
	}
	geluBackward(nil, dx, ones, x)
	for i, v := range x {
		f := float64(v)
		want := 0.5*math.Erfc(-f/math.Sqrt2) + f*math.Exp(-f*f/2)/math.Sqrt(2*math.Pi)
		if got := float64(dx[i]); math.Abs(got-want) > 3e-7 {
			t.Errorf("GELU'(%g) = %.9g, want %.9g", v, got, want)
		}
	}
}

func TestLog1p(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 1))
	xs := []float32{1e-30, 1e-5, 9.99e-5, 1e-4, 0.3, 0.41421356, 1, 2.5, 1e6, 3e38}
	for i := 0; i < 10000; i++ {
		xs = append(xs, float32(math.Exp(r.Float64()*40-20)))
	}
	for _, x := range xs {
		want := math.Log1p(float64(x))
		if got := float64(log1p(x)); math.Abs(got-want) > 1e-7*want {
			t.Errorf("log1p(%g) = %.9g, want %.9g", x, got, want)
		}
	}
}

func TestAttentionGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 1))
	const H, heads = 8, 2
	segs := []int{0, 3, 8, 9}
	n := segs[len(segs)-1]
	a := attention{hidden: H, heads: heads}
	off, total := a.probOffsets(segs, nil)
	qkv := randSlice(r, n*3*H, 1)
	rr := randSlice(r, n*H, 1)
	ctx, probs := make([]float32, n*H), make([]float32, total)
	pool := kernels.NewPool(2)
	f := func() float64 { a.forward(pool, ctx, probs, qkv, segs, off); return dot64(rr, ctx) }
	f()
	dqkv := make([]float32, n*3*H)
	a.backward(pool, dqkv, rr, probs, qkv, segs, off)
	checkGrad(t, "attention.qkv", f, qkv, dqkv, nil)
	// A text's output depends on its own rows only.
	for i := 0; i < 3*H; i++ {
		if dqkv[8*3*H+i] == 0 && i >= 2*H {
			t.Errorf("single-token text: value gradient %d is zero", i)
		}
	}
}

// tinyConfigs are the model shapes of the end-to-end checks.
var tinyConfigs = []struct {
	name string
	cfg  model.Config
}{
	{"bert", model.Config{Arch: model.BERT, Hidden: 8, Layers: 2, Heads: 2, Intermediate: 12, Vocab: 40,
		MaxPositions: 16, TypeVocab: 2, LayerNormEps: 1e-12, TiedDecoder: true}},
	{"distilbert-untied", model.Config{Arch: model.DistilBERT, Hidden: 8, Layers: 1, Heads: 4, Intermediate: 16,
		Vocab: 30, MaxPositions: 16, LayerNormEps: 1e-12, TiedDecoder: false}},
}

// tinyModel returns a model with NewRandom's weights, the weight
// matrices of the layers halved: NewRandom makes attention sharp (like a
// trained model's), which curves the loss so much that central
// differences with a float32-sized step are off by several percent.
func tinyModel(t testing.TB, cfg model.Config, seed uint64) *Model {
	t.Helper()
	im, err := model.NewRandom(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	m, err := FromModel(im)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		if p.Decay && !strings.Contains(p.Name, "embeddings") {
			for i := range p.W {
				p.W[i] *= 0.5
			}
		}
	}
	return m
}

func randBatch(r *rand.Rand, lens []int, vocab int) [][]int32 {
	b := make([][]int32, len(lens))
	for s, n := range lens {
		for i := 0; i < n; i++ {
			b[s] = append(b[s], int32(r.IntN(vocab)))
		}
	}
	return b
}

// sampleIdx picks up to k indices of a parameter: the largest gradients
// and random others.
func sampleIdx(r *rand.Rand, g []float32, k int) []int {
	if len(g) <= k {
		return nil // all
	}
	best := 0
	for i, v := range g {
		if math.Abs(float64(v)) > math.Abs(float64(g[best])) {
			best = i
		}
	}
	idx := []int{best}
	for len(idx) < k {
		idx = append(idx, r.IntN(len(g)))
	}
	return idx
}

// TestModelGrad checks the gradient of a random linear function of the
// SPLADE vectors with respect to every parameter, for both poolings.
func TestModelGrad(t *testing.T) {
	for _, tc := range tinyConfigs {
		for _, pooling := range []kernels.Pooling{kernels.PoolMax, kernels.PoolSum} {
			t.Run(fmt.Sprintf("%s/pool%d", tc.name, pooling), func(t *testing.T) {
				r := rand.New(rand.NewPCG(5, uint64(pooling)))
				m := tinyModel(t, tc.cfg, 11)
				m.SetThreads(2)
				batch := randBatch(r, []int{5, 1, 7}, tc.cfg.Vocab)
				act, err := m.Forward(batch, pooling)
				if err != nil {
					t.Fatal(err)
				}
				rr := randSlice(r, len(act.Vectors()), 1)
				f := func() float64 {
					a, err := m.Forward(batch, pooling)
					if err != nil {
						t.Fatal(err)
					}
					return dot64(rr, a.Vectors())
				}
				m.ZeroGrad()
				if err := m.Backward(act, rr); err != nil {
					t.Fatal(err)
				}
				active := 0
				for _, v := range act.Vectors() {
					if v > 0 {
						active++
					}
				}
				if active == 0 || active == len(act.Vectors()) {
					t.Fatalf("%d of %d terms active: the check would not exercise the head", active, len(act.Vectors()))
				}
				for _, p := range m.Params() {
					checkGrad(t, p.Name, f, p.W, p.G, sampleIdx(r, p.G, 6))
				}
			})
		}
	}
}

// TestMLMGrad checks the masked-LM cross-entropy gradient end to end.
func TestMLMGrad(t *testing.T) {
	for _, tc := range tinyConfigs {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(6, 1))
			m := tinyModel(t, tc.cfg, 12)
			batch := randBatch(r, []int{6, 4}, tc.cfg.Vocab)
			labels := [][]int32{{Ignore, 3, Ignore, Ignore, 7, Ignore}, {Ignore, Ignore, 1, Ignore}}
			var a Activations
			f := func() float64 {
				l, _, err := m.MLM(&a, batch, labels, false)
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			m.ZeroGrad()
			loss, count, err := m.MLM(&a, batch, labels, true)
			if err != nil {
				t.Fatal(err)
			}
			if count != 3 || !(loss > 0) {
				t.Fatalf("loss %g over %d positions", loss, count)
			}
			for _, p := range m.Params() {
				checkGrad(t, p.Name, f, p.W, p.G, sampleIdx(r, p.G, 6))
			}
		})
	}
}
