package train

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/splade-go/splade/kernels"
	"github.com/splade-go/splade/model"
)

// TestParity: the training model's forward equals the encoder's output
// (model.Encoder, same weights) within 1e-4, for both poolings, on the
// test checkpoints and on a random model.
func TestParity(t *testing.T) {
	var models []*model.Model
	for _, dir := range []string{"bert", "distilbert"} {
		m, err := model.Load(filepath.Join("..", "model", "testdata", dir))
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, m)
	}
	rm, err := model.NewRandom(tinyConfigs[1].cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	models = append(models, rm)
	r := rand.New(rand.NewPCG(7, 7))
	for _, im := range models {
		tm, err := FromModel(im)
		if err != nil {
			t.Fatal(err)
		}
		batch := randBatch(r, []int{9, 1, 16, 4}, im.Config.Vocab)
		for _, pooling := range []kernels.Pooling{kernels.PoolMax, kernels.PoolSum} {
			enc, err := model.NewEncoder(im, nil, model.Options{Pooling: pooling, Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			want, err := enc.EncodeIDs(batch)
			if err != nil {
				t.Fatal(err)
			}
			act, err := tm.Forward(batch, pooling)
			if err != nil {
				t.Fatal(err)
			}
			nonzero := 0
			for s, w := range want {
				got := act.Vector(s)
				dense := make([]float32, len(got))
				for k, id := range w.IDs {
					dense[id] = w.Values[k]
				}
				for j := range got {
					if math.Abs(float64(got[j]-dense[j])) > 1e-4 {
						t.Fatalf("%v pooling %d, text %d, term %d: train %g, encoder %g", im.Config.Arch, pooling, s, j, got[j], dense[j])
					}
				}
				nonzero += len(w.IDs)
			}
			if nonzero == 0 {
				t.Fatalf("%v: all vectors empty", im.Config.Arch)
			}
		}
	}
}

// TestSaveLoad: a trained model saved in HF layout loads into the encoder
// and into training with the same weights, and the optimizer resumes where
// it stopped: training 4 steps equals 2 steps, save, load, 2 steps.
func TestSaveLoad(t *testing.T) {
	cfg := tinyConfigs[0].cfg
	batches := func() [][][]int32 {
		r := rand.New(rand.NewPCG(8, 8))
		var b [][][]int32
		for i := 0; i < 4; i++ {
			b = append(b, randBatch(r, []int{6, 3}, cfg.Vocab))
		}
		return b
	}()
	// step runs one step of a toy objective: maximize the first text's
	// weights, minimize the second's.
	step := func(m *Model, opt *AdamW, batch [][]int32) float64 {
		m.ZeroGrad()
		act, err := m.Forward(batch, kernels.PoolMax)
		if err != nil {
			t.Fatal(err)
		}
		dv := make([]float32, len(act.Vectors()))
		V := cfg.Vocab
		var loss float64
		for j := 0; j < V; j++ {
			dv[j], dv[V+j] = -1, 1
			loss += float64(act.Vector(1)[j] - act.Vector(0)[j])
		}
		if err := m.Backward(act, dv); err != nil {
			t.Fatal(err)
		}
		opt.Step()
		return loss
	}
	sched := Schedule{Peak: 1e-2, Warmup: 2, Total: 4}
	m1, err := New(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	o1 := NewAdamW(m1.Params(), sched)
	var losses []float64
	for _, b := range batches {
		losses = append(losses, step(m1, o1, b))
	}
	if !(losses[3] < losses[0]) {
		t.Errorf("loss did not decrease: %v", losses)
	}

	m2, _ := New(cfg, 1)
	o2 := NewAdamW(m2.Params(), sched)
	step(m2, o2, batches[0])
	step(m2, o2, batches[1])
	dir := t.TempDir()
	vocab := make([]string, cfg.Vocab)
	for i := range vocab {
		vocab[i] = "w" + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	copy(vocab, []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"})
	if err := m2.Save(dir, vocab); err != nil {
		t.Fatal(err)
	}
	if err := o2.Save(dir); err != nil {
		t.Fatal(err)
	}
	m3, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range m3.Params() {
		if !slices.Equal(p.W, m2.Params()[i].W) {
			t.Fatalf("%s changed in the checkpoint", p.Name)
		}
	}
	o3 := NewAdamW(m3.Params(), Schedule{})
	if err := o3.Load(dir); err != nil {
		t.Fatal(err)
	}
	if o3.Steps() != 2 || o3.Schedule != sched {
		t.Fatalf("resumed at step %d with %+v", o3.Steps(), o3.Schedule)
	}
	step(m3, o3, batches[2])
	step(m3, o3, batches[3])
	for i, p := range m3.Params() {
		if !slices.Equal(p.W, m1.Params()[i].W) {
			t.Fatalf("%s: resumed training differs from uninterrupted training", p.Name)
		}
	}
}

// TestDeterministic: the same seed and thread count give the same weights
// after training, for both poolings and MLM.
func TestDeterministic(t *testing.T) {
	cfg := tinyConfigs[1].cfg
	run := func() []float32 {
		m, err := New(cfg, 5)
		if err != nil {
			t.Fatal(err)
		}
		m.SetThreads(2)
		o := NewAdamW(m.Params(), Schedule{Peak: 1e-3, Warmup: 1})
		r := rand.New(rand.NewPCG(9, 9))
		mk := Masker{Prob: 0.3, MaskID: 4, Vocab: cfg.Vocab, Special: map[int32]bool{0: true}}
		var a Activations
		for i := 0; i < 3; i++ {
			m.ZeroGrad()
			batch := randBatch(r, []int{7, 5}, cfg.Vocab)
			for _, pooling := range []kernels.Pooling{kernels.PoolMax, kernels.PoolSum} {
				if err := m.ForwardInto(&a, batch, pooling); err != nil {
					t.Fatal(err)
				}
				if err := m.Backward(&a, randSlice(r, len(a.Vectors()), 1)); err != nil {
					t.Fatal(err)
				}
			}
			in, labels := make([][]int32, len(batch)), make([][]int32, len(batch))
			for s := range batch {
				in[s], labels[s] = mk.Mask(r, batch[s])
				labels[s][1] = batch[s][1] // at least one label per text
			}
			if _, _, err := m.MLM(&a, in, labels, true); err != nil {
				t.Fatal(err)
			}
			o.Step()
		}
		var w []float32
		for _, p := range m.Params() {
			w = append(w, p.W...)
		}
		return w
	}
	a, b := run(), run()
	if !slices.Equal(a, b) {
		t.Fatal("two runs with the same seed differ")
	}
}

// TestThreadIndependent: with max pooling every parallel loop writes
// disjoint outputs with complete sums, so training gives the same weights
// on 1 and 3 threads, bit for bit.
func TestThreadIndependent(t *testing.T) {
	cfg := tinyConfigs[0].cfg
	run := func(threads int) []float32 {
		m, err := New(cfg, 6)
		if err != nil {
			t.Fatal(err)
		}
		m.SetThreads(threads)
		o := NewAdamW(m.Params(), Schedule{Peak: 1e-3, Warmup: 1})
		o.SetThreads(threads)
		r := rand.New(rand.NewPCG(10, 10))
		for i := 0; i < 2; i++ {
			m.ZeroGrad()
			act, err := m.Forward(randBatch(r, []int{9, 2, 16, 5}, cfg.Vocab), kernels.PoolMax)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Backward(act, randSlice(r, len(act.Vectors()), 1)); err != nil {
				t.Fatal(err)
			}
			o.Step()
		}
		var w []float32
		for _, p := range m.Params() {
			w = append(w, p.W...)
		}
		return w
	}
	if !slices.Equal(run(1), run(3)) {
		t.Fatal("1 and 3 threads give different weights")
	}
}

// TestAdamW checks one update against the formula computed in float64.
func TestAdamW(t *testing.T) {
	w := []float32{1, -2, 0.5}
	g := []float32{0.3, 4, -0.1} // norm > 1: clipped
	b := []float32{0.25}
	gb := []float32{-0.2}
	params := []*Param{{Name: "w", Shape: []int{3}, W: w, G: g, Decay: true}, {Name: "b", Shape: []int{1}, W: b, G: gb}}
	o := NewAdamW(params, Schedule{Peak: 0.1, Warmup: 2, Total: 10})
	w0, b0 := slices.Clone(w), slices.Clone(b)
	norm, lr := o.Step()
	wantNorm := math.Sqrt(0.09 + 16 + 0.01 + 0.04)
	if math.Abs(norm-wantNorm) > 1e-6 || lr != 0.05 {
		t.Fatalf("norm %g lr %g, want %g 0.05", norm, lr, wantNorm)
	}
	clip := 1 / (wantNorm + 1e-6)
	upd := func(w0, g float64, decay bool) float64 {
		g *= clip
		m := 0.1 * g / (1 - 0.9)
		v := 0.001 * g * g / (1 - 0.999)
		if decay {
			w0 *= 1 - 0.05*0.01
		}
		return w0 - 0.05*m/(math.Sqrt(v)+1e-8)
	}
	for i := range w {
		if want := upd(float64(w0[i]), float64(g[i]), true); math.Abs(float64(w[i])-want) > 1e-6 {
			t.Errorf("w[%d] = %g, want %g", i, w[i], want)
		}
	}
	if want := upd(float64(b0[0]), float64(gb[0]), false); math.Abs(float64(b[0])-want) > 1e-6 {
		t.Errorf("b = %g, want %g (no decay on biases)", b[0], want)
	}
}

func TestSchedule(t *testing.T) {
	s := Schedule{Peak: 1, Warmup: 4, Total: 12}
	for _, tc := range []struct {
		step int
		want float64
	}{{0, 0.25}, {3, 1}, {4, 1}, {8, 0.5}, {11, 0.125}, {12, 0}, {100, 0}} {
		if got := s.LR(tc.step); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("LR(%d) = %g, want %g", tc.step, got, tc.want)
		}
	}
	if got := (Schedule{Peak: 2}).LR(50); got != 2 {
		t.Errorf("constant schedule: %g", got)
	}
}

func TestMasker(t *testing.T) {
	mk := Masker{Prob: 0.15, MaskID: 103, Vocab: 1000, Special: map[int32]bool{101: true, 102: true}}
	r := rand.New(rand.NewPCG(1, 2))
	ids := make([]int32, 20000)
	for i := range ids {
		ids[i] = int32(200 + i%700)
	}
	ids[0], ids[len(ids)-1] = 101, 102
	in, labels := mk.Mask(r, ids)
	var sel, masked, kept int
	for i := range ids {
		if labels[i] == Ignore {
			if in[i] != ids[i] {
				t.Fatalf("unselected token %d changed", i)
			}
			continue
		}
		sel++
		if labels[i] != ids[i] {
			t.Fatalf("label %d is not the original token", i)
		}
		switch in[i] {
		case 103:
			masked++
		case ids[i]:
			kept++
		}
	}
	if labels[0] != Ignore || labels[len(ids)-1] != Ignore {
		t.Error("special token selected")
	}
	if f := float64(sel) / float64(len(ids)); f < 0.13 || f > 0.17 {
		t.Errorf("selected fraction %g, want about 0.15", f)
	}
	if f := float64(masked) / float64(sel); f < 0.76 || f > 0.84 {
		t.Errorf("[MASK] fraction %g, want about 0.8", f)
	}
	if f := float64(kept) / float64(sel); f < 0.07 || f > 0.13 {
		t.Errorf("kept fraction %g, want about 0.1", f)
	}
	// The copy task labels unselected tokens as themselves, inputs intact.
	mk.CopyProb = 0.5
	in, labels = mk.Mask(rand.New(rand.NewPCG(1, 2)), ids)
	copies := 0
	for i := range ids {
		if labels[i] != Ignore && in[i] == ids[i] {
			copies++
		}
		if labels[i] != Ignore && labels[i] != ids[i] {
			t.Fatalf("label %d is not the original token", i)
		}
	}
	// 0.85 x 0.5 copies plus 0.15 x 0.1 kept.
	if f := float64(copies) / float64(len(ids)); f < 0.41 || f > 0.47 {
		t.Errorf("copy fraction %g, want about 0.44", f)
	}
	if labels[0] != Ignore || labels[len(ids)-1] != Ignore {
		t.Error("special token labeled for copying")
	}
}

func TestErrors(t *testing.T) {
	m, err := New(tinyConfigs[1].cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range [][][]int32{nil, {{}}, {{1, 99}}, {make([]int32, 17)}} {
		if _, err := m.Forward(batch, kernels.PoolMax); err == nil {
			t.Errorf("batch %v accepted", batch)
		}
	}
	act, err := m.Forward([][]int32{{1, 2}}, kernels.PoolMax)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Backward(act, make([]float32, 3)); err == nil {
		t.Error("gradient of the wrong size accepted")
	}
	var a Activations
	if _, _, err := m.MLM(&a, [][]int32{{1, 2}}, [][]int32{{Ignore, Ignore}}, true); err == nil {
		t.Error("MLM batch without labels accepted")
	}
	if _, _, err := m.MLM(&a, [][]int32{{1, 2}}, [][]int32{{Ignore, 500}}, true); err == nil {
		t.Error("MLM label outside the vocabulary accepted")
	}
	if _, err := New(model.Config{}, 1); err == nil {
		t.Error("invalid config accepted")
	}
	o := NewAdamW(m.Params(), Schedule{})
	if err := o.Load(t.TempDir()); err == nil {
		t.Error("loading a missing optimizer state succeeded")
	}
}

// TestFromScratch: a model from a config and a vocab.txt trains on MLM
// (the loss falls on a repeated batch) and saves as a checkpoint that the
// encoder loads with its tokenizer.
func TestFromScratch(t *testing.T) {
	cfg, vocab, err := ConfigFromVocab(model.BERT, 1, 16, 2, filepath.Join("..", "model", "testdata", "bert", "vocab.txt"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxPositions = 32
	m, err := New(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	if m.NumParams() == 0 || len(m.Params()) != len(model.ParamNames(cfg)) {
		t.Fatalf("%d params in %d tensors", m.NumParams(), len(m.Params()))
	}
	o := NewAdamW(m.Params(), Schedule{Peak: 1e-2, Warmup: 2})
	r := rand.New(rand.NewPCG(11, 11))
	batch := randBatch(r, []int{12, 9}, cfg.Vocab)
	labels := [][]int32{make([]int32, 12), make([]int32, 9)}
	in := [][]int32{slices.Clone(batch[0]), slices.Clone(batch[1])}
	for s := range labels {
		for i := range labels[s] {
			labels[s][i] = Ignore
			if i%3 == 1 {
				labels[s][i], in[s][i] = batch[s][i], 103 // [MASK]
			}
		}
	}
	var a Activations
	var losses []float64
	for i := 0; i < 8; i++ {
		m.ZeroGrad()
		loss, _, err := m.MLM(&a, in, labels, true)
		if err != nil {
			t.Fatal(err)
		}
		losses = append(losses, loss)
		o.Step()
	}
	if !(losses[7] < losses[0]-0.5) {
		t.Errorf("MLM loss did not fall: %v", losses)
	}
	dir := t.TempDir()
	if err := m.Save(dir, vocab); err != nil {
		t.Fatal(err)
	}
	if _, _, err := model.LoadWithTokenizer(dir); err != nil {
		t.Fatal(err)
	}
}
