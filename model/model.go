// Package model runs SPLADE encoders: a BERT or DistilBERT masked-language
// model whose MLM logits over the vocabulary become a sparse vector through
// the SPLADE head (Formal et al., SIGIR 2021 and SPLADE v2):
//
//	w_j = pool_i log(1 + ReLU(logit_ij))      pool = max (default) or sum
//
// over the tokens i of the text, so each vocabulary term j gets a weight,
// most of them exactly zero.
//
// Checkpoints are read in the Hugging Face layout (config.json plus
// model.safetensors or pytorch_model.bin, tokenizer files beside them) with
// HF's parameter names, and the forward pass reproduces PyTorch's padded,
// attention-masked computation without padding anything: all texts of a
// batch are stacked into one matrix for the dense layers, and attention runs
// per text on its own rows, which is exactly what the mask achieves. The
// vocabulary-sized logits are never materialized: kernels.Packed.SpladePool
// fuses the decoder, the saturation and the pooling.
//
// A Model is read-only after loading and shared by all goroutines; an
// Encoder adds options and reusable scratch buffers.
package model

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/splade-go/splade/kernels"
	"github.com/splade-go/splade/tokenize"
)

// Model is a loaded encoder: weights packed for the kernels. Safe for
// concurrent use.
type Model struct {
	Config Config

	wordEmb []float32 // [Vocab][Hidden]
	posEmb  []float32 // [MaxPositions][Hidden]
	typeEmb []float32 // [Hidden]: token type 0 (BERT), nil for DistilBERT
	embLN   layerNorm
	layers  []layer

	transform     *kernels.Packed // MLM transform dense, then GELU and LayerNorm
	transformBias []float32
	transformLN   layerNorm
	decoder       *kernels.Packed // [Vocab][Hidden], usually the word embeddings
	decoderBias   []float32
}

type layerNorm struct{ gamma, beta []float32 }

// layer is one post-LayerNorm transformer block.
type layer struct {
	qkv     *kernels.Packed // query, key and value fused: [3*Hidden][Hidden]
	qkvBias []float32
	out     *kernels.Packed
	outBias []float32
	attnLN  layerNorm
	ffn1    *kernels.Packed
	ffn1B   []float32
	ffn2    *kernels.Packed
	ffn2B   []float32
	ffnLN   layerNorm
}

// WeightFiles lists the weight file names Load looks for, in order.
var WeightFiles = []string{"model.safetensors", "pytorch_model.bin"}

// Load reads config.json and the first of WeightFiles found in dir.
func Load(dir string) (*Model, error) {
	for _, name := range WeightFiles {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return LoadFiles(filepath.Join(dir, "config.json"), p)
		}
	}
	return nil, fmt.Errorf("%s: no model weights (looked for %s)", dir, strings.Join(WeightFiles, ", "))
}

// LoadWithTokenizer loads the model and the tokenizer (tokenizer.json or
// vocab.txt, with tokenizer_config.json) of a model directory and checks
// that they agree on the vocabulary size.
func LoadWithTokenizer(dir string) (*Model, *tokenize.Tokenizer, error) {
	m, err := Load(dir)
	if err != nil {
		return nil, nil, err
	}
	tok, err := tokenize.Load(dir)
	if err != nil {
		return nil, nil, err
	}
	if tok.VocabSize() != m.Config.Vocab {
		return nil, nil, fmt.Errorf("%s: the tokenizer has %d entries but config.json says vocab_size %d", dir, tok.VocabSize(), m.Config.Vocab)
	}
	return m, tok, nil
}

// LoadFiles reads a config.json and a weights file: safetensors when its
// name ends in .safetensors, else a torch.save zip archive.
func LoadFiles(configPath, weightsPath string) (*Model, error) {
	cfg, err := ReadConfig(configPath)
	if err != nil {
		return nil, err
	}
	var ck *checkpoint
	var closeFn func() error
	if strings.HasSuffix(weightsPath, ".safetensors") {
		ck, closeFn, err = openSafetensors(weightsPath)
	} else {
		ck, closeFn, err = openTorchBin(weightsPath)
	}
	if err != nil {
		return nil, err
	}
	defer closeFn()
	return build(cfg, ck)
}

// source resolves HF parameter names in a checkpoint, checking shapes.
type source struct {
	ck *checkpoint
	// random, when set, makes up every tensor instead (NewRandom).
	random func(name string, shape []int) []float32
}

// find returns the tensor stored under name or its legacy LayerNorm name
// (nil if neither exists), and the name it was found under.
func (s *source) find(name string) (string, *tensor) {
	if t, ok := s.ck.tensors[name]; ok {
		return name, t
	}
	// Old TensorFlow-converted checkpoints name LayerNorm parameters
	// gamma and beta.
	if strings.Contains(name, "LayerNorm.") || strings.Contains(name, "layer_norm.") {
		alt := strings.TrimSuffix(strings.TrimSuffix(name, ".weight"), ".bias")
		if strings.HasSuffix(name, ".weight") {
			alt += ".gamma"
		} else {
			alt += ".beta"
		}
		if t, ok := s.ck.tensors[alt]; ok {
			return alt, t
		}
	}
	return name, nil
}

func (s *source) get(name string, shape ...int) ([]float32, error) {
	if s.random != nil {
		return s.random(name, shape), nil
	}
	found, t := s.find(name)
	if t == nil {
		return nil, fmt.Errorf("%s: missing tensor %q", s.ck.name, name)
	}
	if !sameShape(t.shape, shape) {
		return nil, fmt.Errorf("%s: tensor %q has shape %v, want %v", s.ck.name, found, t.shape, shape)
	}
	return t.read()
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// build assembles a Model from the tensors of a checkpoint.
func build(cfg Config, ck *checkpoint) (*Model, error) {
	return buildFrom(cfg, &source{ck: ck})
}

func buildFrom(cfg Config, s *source) (m *Model, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	H, I, V := cfg.Hidden, cfg.Intermediate, cfg.Vocab
	ck := s.ck
	m = &Model{Config: cfg}
	// First error wins; later gets are skipped.
	get := func(name string, shape ...int) []float32 {
		if err != nil {
			return nil
		}
		var w []float32
		w, err = s.get(name, shape...)
		return w
	}
	pack := func(name string, out, in int) *kernels.Packed {
		w := get(name, out, in)
		if err != nil {
			return nil
		}
		return kernels.Pack(w, out, in)
	}
	ln := func(name string) layerNorm {
		return layerNorm{get(name+".weight", H), get(name+".bias", H)}
	}
	pre := "bert."
	if cfg.Arch == DistilBERT {
		pre = "distilbert."
	}
	if _, t := s.find(pre + "embeddings.word_embeddings.weight"); t == nil {
		if _, t := s.find("embeddings.word_embeddings.weight"); t != nil {
			pre = "" // an encoder saved without its MLM wrapper
		}
	}
	m.wordEmb = get(pre+"embeddings.word_embeddings.weight", V, H)
	m.posEmb = get(pre+"embeddings.position_embeddings.weight", cfg.MaxPositions, H)
	if cfg.Arch == BERT {
		if te := get(pre+"embeddings.token_type_embeddings.weight", cfg.TypeVocab, H); te != nil {
			m.typeEmb = te[:H]
		}
	}
	m.embLN = ln(pre + "embeddings.LayerNorm")
	for i := 0; i < cfg.Layers && err == nil; i++ {
		var l layer
		var q, k, v, qb, kb, vb []float32
		if cfg.Arch == BERT {
			p := fmt.Sprintf("%sencoder.layer.%d.", pre, i)
			q, qb = get(p+"attention.self.query.weight", H, H), get(p+"attention.self.query.bias", H)
			k, kb = get(p+"attention.self.key.weight", H, H), get(p+"attention.self.key.bias", H)
			v, vb = get(p+"attention.self.value.weight", H, H), get(p+"attention.self.value.bias", H)
			l.out, l.outBias = pack(p+"attention.output.dense.weight", H, H), get(p+"attention.output.dense.bias", H)
			l.attnLN = ln(p + "attention.output.LayerNorm")
			l.ffn1, l.ffn1B = pack(p+"intermediate.dense.weight", I, H), get(p+"intermediate.dense.bias", I)
			l.ffn2, l.ffn2B = pack(p+"output.dense.weight", H, I), get(p+"output.dense.bias", H)
			l.ffnLN = ln(p + "output.LayerNorm")
		} else {
			p := fmt.Sprintf("%stransformer.layer.%d.", pre, i)
			q, qb = get(p+"attention.q_lin.weight", H, H), get(p+"attention.q_lin.bias", H)
			k, kb = get(p+"attention.k_lin.weight", H, H), get(p+"attention.k_lin.bias", H)
			v, vb = get(p+"attention.v_lin.weight", H, H), get(p+"attention.v_lin.bias", H)
			l.out, l.outBias = pack(p+"attention.out_lin.weight", H, H), get(p+"attention.out_lin.bias", H)
			l.attnLN = ln(p + "sa_layer_norm")
			l.ffn1, l.ffn1B = pack(p+"ffn.lin1.weight", I, H), get(p+"ffn.lin1.bias", I)
			l.ffn2, l.ffn2B = pack(p+"ffn.lin2.weight", H, I), get(p+"ffn.lin2.bias", H)
			l.ffnLN = ln(p + "output_layer_norm")
		}
		if err == nil {
			l.qkv = kernels.Pack(concat(q, k, v), 3*H, H)
			l.qkvBias = concat(qb, kb, vb)
		}
		m.layers = append(m.layers, l)
	}
	// The MLM head. Its decoder weight is tied to the word embeddings in
	// both architectures unless the config unties it; like Hugging Face,
	// we then ignore a stored copy (after checking its shape).
	var decName, biasName string
	if cfg.Arch == BERT {
		m.transform = pack("cls.predictions.transform.dense.weight", H, H)
		m.transformBias = get("cls.predictions.transform.dense.bias", H)
		m.transformLN = ln("cls.predictions.transform.LayerNorm")
		decName, biasName = "cls.predictions.decoder.weight", "cls.predictions.bias"
		if _, t := s.find(biasName); t == nil {
			biasName = "cls.predictions.decoder.bias"
		}
	} else {
		m.transform = pack("vocab_transform.weight", H, H)
		m.transformBias = get("vocab_transform.bias", H)
		m.transformLN = ln("vocab_layer_norm")
		decName, biasName = "vocab_projector.weight", "vocab_projector.bias"
	}
	m.decoderBias = get(biasName, V)
	if cfg.Arch == BERT && err == nil {
		// HF ties cls.predictions.decoder.bias to cls.predictions.bias; two
		// different stored values would make the choice arbitrary.
		if _, t := s.find("cls.predictions.decoder.bias"); t != nil && biasName != "cls.predictions.decoder.bias" {
			db := get("cls.predictions.decoder.bias", V)
			for j := range db {
				if db[j] != m.decoderBias[j] {
					return nil, fmt.Errorf("%s: cls.predictions.bias and cls.predictions.decoder.bias differ (at %d)", ck.name, j)
				}
			}
		}
	}
	if cfg.TiedDecoder {
		if _, t := s.find(decName); t != nil && !sameShape(t.shape, []int{V, H}) {
			return nil, fmt.Errorf("%s: tensor %q has shape %v, want %v", ck.name, decName, t.shape, []int{V, H})
		}
		if err == nil {
			m.decoder = kernels.Pack(m.wordEmb, V, H)
		}
	} else {
		m.decoder = pack(decName, V, H)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

func concat(parts ...[]float32) []float32 {
	var out []float32
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
