package model

import (
	"math"
	"math/rand/v2"
	"strings"
)

// NewRandom returns a model of the given shape with random weights drawn
// from seed, for tests and benchmarks that need no checkpoint file. The
// scales follow the reference script (scripts/reference/make_golden.py):
// attention is far from uniform and the SPLADE vectors are sparse but not
// trivial (logits of spread about 0.55 around a bias of -1.2).
func NewRandom(cfg Config, seed uint64) (*Model, error) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	H := float64(cfg.Hidden)
	gen := func(name string, shape []int) []float32 {
		n := 1
		for _, d := range shape {
			n *= d
		}
		mean, std := 0.0, 0.05 // biases
		switch {
		case strings.Contains(name, "word_embeddings"):
			std = 0.55 / math.Sqrt(H)
		case strings.Contains(name, "embeddings."):
			std = 0.3
		case strings.Contains(name, "LayerNorm") || strings.Contains(name, "layer_norm"):
			std = 0.1
			if strings.HasSuffix(name, ".weight") {
				mean = 1
			}
		case strings.HasSuffix(name, "decoder.bias") || strings.HasSuffix(name, "predictions.bias") || strings.HasSuffix(name, "projector.bias"):
			mean, std = -1.2, 0.3
		case strings.HasSuffix(name, ".weight") && (strings.Contains(name, "query") || strings.Contains(name, "key") ||
			strings.Contains(name, "q_lin") || strings.Contains(name, "k_lin")):
			std = 2 / math.Sqrt(H)
		case strings.HasSuffix(name, ".weight") && len(shape) == 2:
			std = 1 / math.Sqrt(float64(shape[1]))
		}
		w := make([]float32, n)
		for i := range w {
			w[i] = float32(mean + std*rng.NormFloat64())
		}
		return w
	}
	return buildFrom(cfg, &source{ck: &checkpoint{name: "random"}, random: gen})
}
