package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/splade-go/splade/kernels"
)

// sparseRows returns n rows of V non-negative weights, about half zero,
// like SPLADE vectors.
func sparseRows(r *rand.Rand, n, V int) []float32 {
	w := make([]float32, n*V)
	for k := range w {
		if r.IntN(2) == 0 {
			w[k] = float32(0.1 + r.Float64())
		}
	}
	return w
}

func nonzeroIdx(w []float32) []int {
	var idx []int
	for k, v := range w {
		if v != 0 {
			idx = append(idx, k)
		}
	}
	return idx
}

// TestObjectiveGrad checks each loss's gradient with respect to the
// vectors against central differences.
func TestObjectiveGrad(t *testing.T) {
	const V, nq, nd = 7, 3, 6
	r := rand.New(rand.NewPCG(1, 2))
	q, d := sparseRows(r, nq, V), sparseRows(r, nd, V)
	pos, neg := []int{0, 1, 2}, []int{3, 4, 5}
	margin := []float64{0.5, -1, 2}
	skip := func(i, k int) bool { return i == 0 && k == 1 } // doc 1 also relevant to query 0
	use := []bool{true, false, true}
	teacher := sparseRows(r, nq, V)
	logits := randSlice(r, nq*V, 2)

	type loss func(q, d []float32, dq, dd []float32) float64
	cases := []struct {
		name string
		f    loss
	}{
		{"ranking", func(q, d, dq, dd []float32) float64 {
			S := Scores(q, d, V)
			dS := make([]float64, len(S))
			l, err := RankingCE(S, nq, nd, pos, skip, 1.5, dS)
			if err != nil {
				t.Fatal(err)
			}
			ScoresBackward(q, d, V, dS, dq, dd)
			return 1.5 * l
		}},
		{"margin-mse", func(q, d, dq, dd []float32) float64 {
			S := Scores(q, d, V)
			dS := make([]float64, len(S))
			l, err := MarginMSE(S, nq, nd, pos, neg, margin, use, 0.7, dS)
			if err != nil {
				t.Fatal(err)
			}
			ScoresBackward(q, d, V, dS, dq, dd)
			return 0.7 * l
		}},
		{"flops", func(q, d, dq, dd []float32) float64 {
			return 2*FLOPS(q, V, 2, dq) + 3*FLOPS(d, V, 3, dd)
		}},
		{"l1", func(q, d, dq, dd []float32) float64 {
			return 2*L1(q, V, 2, dq) + 3*L1(d, V, 3, dd)
		}},
		{"teacher", func(q, d, dq, dd []float32) float64 {
			// q plays the max logits here (any sign).
			l, err := TeacherRegression(q, teacher, V, use, 0.5, dq)
			if err != nil {
				t.Fatal(err)
			}
			return 0.5 * l
		}},
		{"presence", func(q, d, dq, dd []float32) float64 {
			use := make([]bool, len(q))
			for k := range use {
				use[k] = k%3 != 0
			}
			l, err := PresenceLoss(q, use, nq, 0.8, dq)
			if err != nil {
				t.Fatal(err)
			}
			return 0.8 * l
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			qq := q
			if c.name == "teacher" || c.name == "presence" {
				qq = logits
			}
			dq, dd := make([]float32, len(qq)), make([]float32, len(d))
			c.f(qq, d, dq, dd)
			f := func() float64 {
				return c.f(qq, d, make([]float32, len(qq)), make([]float32, len(d)))
			}
			nonzero := 0
			for _, g := range append(append([]float32(nil), dq...), dd...) {
				if g != 0 {
					nonzero++
				}
			}
			if nonzero == 0 {
				t.Fatal("all gradients are zero: the check would test nothing")
			}
			// L1 has a kink at 0: check the non-zero weights only.
			var iq, id []int
			if c.name == "l1" {
				iq, id = nonzeroIdx(qq), nonzeroIdx(d)
			}
			checkGrad(t, c.name+"/q", f, qq, dq, iq)
			checkGrad(t, c.name+"/d", f, d, dd, id)
		})
	}
}

// TestObjectiveValues pins the losses on hand-computed cases.
func TestObjectiveValues(t *testing.T) {
	const V = 2
	q := []float32{1, 0, 0, 2}       // two queries
	d := []float32{1, 1, 0, 1, 2, 0} // three documents
	S := Scores(q, d, V)
	want := []float64{1, 0, 2, 2, 2, 0}
	for k := range want {
		if S[k] != want[k] {
			t.Fatalf("scores %v, want %v", S, want)
		}
	}
	dS := make([]float64, len(S))
	l, _ := RankingCE(S, 2, 3, []int{0, 1}, nil, 1, dS)
	// query 0: -log(e^1/(e^1+e^0+e^2)); query 1: -log(e^2/(2e^2+1)).
	w := (-(1 - math.Log(math.E+1+math.E*math.E)) - (2 - math.Log(2*math.E*math.E+1))) / 2
	if math.Abs(l-w) > 1e-12 {
		t.Errorf("ranking CE %g, want %g", l, w)
	}
	// With doc 2 skipped for query 0 the softmax covers docs 0 and 1.
	l, _ = RankingCE(S, 2, 3, []int{0, 1}, func(i, k int) bool { return i == 0 && k == 2 }, 1, make([]float64, 6))
	w = (-(1 - math.Log(math.E+1)) - (2 - math.Log(2*math.E*math.E+1))) / 2
	if math.Abs(l-w) > 1e-12 {
		t.Errorf("ranking CE with skip %g, want %g", l, w)
	}
	l, _ = MarginMSE(S, 2, 3, []int{0, 1}, []int{1, 2}, []float64{0.5, 1}, nil, 1, make([]float64, 6))
	if w := ((1-0-0.5)*(1-0-0.5) + (2-0-1)*(2-0-1)) / 2; math.Abs(l-w) > 1e-12 {
		t.Errorf("margin MSE %g, want %g", l, w)
	}
	// FLOPS: column means of d are (1, 2/3); L1: mean row sum 5/3.
	if got, w := FLOPS(d, V, 0, nil), 1+4.0/9; math.Abs(got-w) > 1e-9 {
		t.Errorf("FLOPS %g, want %g", got, w)
	}
	if got := L1(d, V, 0, make([]float32, 6)); math.Abs(got-5.0/3) > 1e-9 {
		t.Errorf("L1 %g, want 5/3", got)
	}
	for _, c := range []struct {
		t, T int
		want float64
	}{{0, 10, 0}, {5, 10, 0.25}, {10, 10, 1}, {20, 10, 1}, {3, 0, 1}} {
		if got := RampLambda(1, c.t, c.T); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("RampLambda(1, %d, %d) = %g, want %g", c.t, c.T, got, c.want)
		}
	}
	if _, err := Regularizer("l2").Apply(d, V, 1, make([]float32, 6)); err == nil {
		t.Error("unknown regularizer accepted")
	}
	if _, err := RankingCE(S, 2, 3, []int{0, 3}, nil, 1, make([]float64, 6)); err == nil {
		t.Error("positive outside the batch accepted")
	}
}

// TestBackwardMaxLogits checks the gradient of a loss on the vectors, the
// max logits and the token logits through the whole model, against
// central differences of the parameters, and that inactive terms get
// gradient.
func TestBackwardMaxLogits(t *testing.T) {
	cfg := tinyConfigs[0].cfg
	r := rand.New(rand.NewPCG(9, 9))
	m := tinyModel(t, cfg, 11)
	m.SetThreads(2)
	batch := randBatch(r, []int{5, 3, 7}, cfg.Vocab)
	rv := randSlice(r, len(batch)*cfg.Vocab, 1)
	teacher := sparseRows(r, len(batch), cfg.Vocab)
	use := make([]bool, 15)
	for i := range use {
		use[i] = i%4 != 0
	}
	loss := func(a *Activations, dm, dz []float32) float64 {
		l, err := TeacherRegression(a.MaxLogits(), teacher, cfg.Vocab, nil, 1, dm)
		if err != nil {
			t.Fatal(err)
		}
		p, err := PresenceLoss(a.TokenLogits(m), use, 3, 0.7, dz)
		if err != nil {
			t.Fatal(err)
		}
		return l + 0.7*p + dot64(rv, a.Vectors())
	}
	act, err := m.Forward(batch, kernels.PoolMax)
	if err != nil {
		t.Fatal(err)
	}
	dm, dz := make([]float32, len(rv)), make([]float32, 15)
	loss(act, dm, dz)
	inactive := 0
	for k, z := range act.MaxLogits() {
		if z <= 0 && dm[k] != 0 {
			inactive++
		}
	}
	if inactive == 0 {
		t.Fatal("no inactive term with a gradient: the check would not exercise the dead-ReLU path")
	}
	m.ZeroGrad()
	if err := m.BackwardTokenLogits(act, rv, dm, dz); err != nil {
		t.Fatal(err)
	}
	f := func() float64 {
		a, err := m.Forward(batch, kernels.PoolMax)
		if err != nil {
			t.Fatal(err)
		}
		return loss(a, make([]float32, len(rv)), make([]float32, 15))
	}
	for _, p := range m.Params() {
		checkGrad(t, p.Name, f, p.W, p.G, sampleIdx(r, p.G, 6))
	}
	if _, err := m.Forward(batch, kernels.PoolSum); err != nil {
		t.Fatal(err)
	}
}
