package train

import (
	"math/rand/v2"
	"testing"

	"github.com/splade-go/splade/kernels"
	"github.com/splade-go/splade/model"
)

// BenchSmall is the model of BenchmarkTrainStep and of
// scripts/bench/train_torch.py: a DistilBERT of 2 layers x 256 hidden
// with the BERT vocabulary.
var BenchSmall = model.Config{Arch: model.DistilBERT, Hidden: 256, Layers: 2, Heads: 4, Intermediate: 1024,
	Vocab: 30522, MaxPositions: 512, LayerNormEps: 1e-12, TiedDecoder: true}

// BenchmarkTrainStep measures one SPLADE training step on two threads:
// forward of 8 queries x 16 tokens and 16 documents x 128 tokens, a
// gradient on their vectors (the ranking loss's place), backward and
// AdamW. Compare steps/s with scripts/bench/train_torch.py.
func BenchmarkTrainStep(b *testing.B) {
	for _, pooling := range []kernels.Pooling{kernels.PoolMax, kernels.PoolSum} {
		name := map[kernels.Pooling]string{kernels.PoolMax: "max", kernels.PoolSum: "sum"}[pooling]
		b.Run(name+"/"+kernels.Path(), func(b *testing.B) {
			m, err := New(BenchSmall, 1)
			if err != nil {
				b.Fatal(err)
			}
			m.SetThreads(2)
			opt := NewAdamW(m.Params(), Schedule{Peak: 2e-5, Warmup: 100})
			opt.SetThreads(2)
			r := rand.New(rand.NewPCG(1, 2))
			queries := randBatch(r, []int{16, 16, 16, 16, 16, 16, 16, 16}, BenchSmall.Vocab)
			docs := randBatch(r, []int{128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128}, BenchSmall.Vocab)
			var qa, da Activations
			dq := randSlice(r, len(queries)*BenchSmall.Vocab, 1e-3)
			dd := randSlice(r, len(docs)*BenchSmall.Vocab, 1e-3)
			step := func() {
				m.ZeroGrad()
				if err := m.ForwardInto(&qa, queries, pooling); err != nil {
					b.Fatal(err)
				}
				if err := m.ForwardInto(&da, docs, pooling); err != nil {
					b.Fatal(err)
				}
				if err := m.Backward(&qa, dq); err != nil {
					b.Fatal(err)
				}
				if err := m.Backward(&da, dd); err != nil {
					b.Fatal(err)
				}
				opt.Step()
			}
			step() // warm the buffers
			b.ResetTimer()
			for b.Loop() {
				step()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
		})
	}
}
