// Package train trains SPLADE encoders on the CPU: backpropagation through
// a BERT or DistilBERT masked-language model and the SPLADE head
// (Formal et al., SIGIR 2021; SPLADE v2), AdamW, and checkpoints in the
// Hugging Face layout that package model (and HF transformers) loads.
//
// The code follows llm.c: every layer's forward sits next to its backward
// (layers.go), written as plain loops except for the matrix products,
// which run on package kernels (packed GEMM for the forward, Gemm with
// transposes for the backward), split over a kernels.Pool. As in the
// encoder, the texts of a batch are stacked without padding and attention
// runs per text on its own rows.
//
// The SPLADE head w_sj = pool_i log(1 + ReLU(h_i . W_j + b_j)) is where a
// naive implementation spends its time: tokens x 30,522 logits, and three
// times that for their backward. Here the logits are computed in tiles and
// reduced at once, never stored; with max pooling only the argmax token of
// each active term receives gradient, so the backward through the head is
// sparse (one decoder row and one hidden row per nonzero term of each
// text). Sum pooling recomputes the tiles in the backward.
//
// # API
//
//	m, _ := train.New(cfg, seed)         // from scratch (NewConfig, ConfigFromVocab)
//	m, _ := train.Load(dir)              // from any checkpoint model.Load reads
//	opt := train.NewAdamW(m.Params(), train.Schedule{Peak: 2e-5, Warmup: 1000, Total: 100000})
//	for each batch {
//		m.ZeroGrad()
//		act, _ := m.Forward(ids, kernels.PoolMax) // act.Vectors(): [texts][Vocab]
//		dv := lossGradient(act.Vectors())          // the objective (ranking loss, FLOPS, ...)
//		m.Backward(act, dv)                        // accumulates Param.G
//		opt.Step()                                 // clip, AdamW, schedule
//	}
//	m.Save(dir, vocab); opt.Save(dir)    // HF checkpoint + optimizer.safetensors, trainer_state.json
//
// Several forward passes (queries and documents) may be alive at once, each
// with its own Activations; Backward of each accumulates into the same
// gradients. Masked-LM training (domain-adaptive pre-training on raw text)
// uses Masker and Model.MLM, which computes logits only at the masked
// positions.
//
// # Determinism
//
// Weights from New, masks from Masker and AdamW are functions of their
// seeds and inputs, and a training run is reproducible bit for bit. Every
// parallel loop splits work into pieces that write disjoint outputs with
// complete sums, so with max pooling the results do not depend on the
// number of threads (Model.SetThreads) at all. The exception is the
// hidden-state gradient of the sum-pooled and MLM heads: workers split
// the vocabulary and their partial sums are added in a fixed order, but
// the split, and so the float32 rounding, depends on the thread count;
// there, different thread counts agree up to rounding, not bit for bit.
package train
