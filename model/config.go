package model

import (
	"encoding/json"
	"fmt"
	"os"
)

// Arch is the encoder architecture of a checkpoint.
type Arch int

const (
	// BERT is BertForMaskedLM (SPLADE++ and SPLADE-v3 models).
	BERT Arch = iota
	// DistilBERT is DistilBertForMaskedLM (the original SPLADE models).
	DistilBERT
)

func (a Arch) String() string {
	if a == DistilBERT {
		return "distilbert"
	}
	return "bert"
}

// Config is the shape of an encoder, read from a Hugging Face config.json.
type Config struct {
	Arch         Arch
	Hidden       int     // hidden_size / dim
	Layers       int     // num_hidden_layers / n_layers
	Heads        int     // num_attention_heads / n_heads
	Intermediate int     // intermediate_size / hidden_dim
	Vocab        int     // vocab_size
	MaxPositions int     // max_position_embeddings
	TypeVocab    int     // type_vocab_size (BERT only; token type 0 is used)
	LayerNormEps float32 // layer_norm_eps (DistilBERT: 1e-12)
	// TiedDecoder: the MLM decoder reuses the word embeddings
	// (tie_word_embeddings, true unless the config says otherwise).
	TiedDecoder bool
}

// Limits on a config, so that a corrupt one fails here instead of in an
// allocation. They are far above any BERT-family model in use.
const (
	maxHidden    = 1 << 14
	maxLayers    = 256
	maxVocab     = 1 << 22
	maxPositions = 1 << 16
)

// rawConfig holds the keys of both architectures' config.json.
type rawConfig struct {
	ModelType string `json:"model_type"`
	// BERT
	HiddenSize        *int     `json:"hidden_size"`
	NumHiddenLayers   *int     `json:"num_hidden_layers"`
	NumAttentionHeads *int     `json:"num_attention_heads"`
	IntermediateSize  *int     `json:"intermediate_size"`
	HiddenAct         *string  `json:"hidden_act"`
	TypeVocabSize     *int     `json:"type_vocab_size"`
	LayerNormEps      *float64 `json:"layer_norm_eps"`
	PosEmbType        *string  `json:"position_embedding_type"`
	// DistilBERT
	Dim        *int    `json:"dim"`
	NLayers    *int    `json:"n_layers"`
	NHeads     *int    `json:"n_heads"`
	HiddenDim  *int    `json:"hidden_dim"`
	Activation *string `json:"activation"`
	// both
	VocabSize   *int  `json:"vocab_size"`
	MaxPos      *int  `json:"max_position_embeddings"`
	TieEmbeddng *bool `json:"tie_word_embeddings"`
}

// ReadConfig reads and validates a config.json.
func ReadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	c, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfig parses and validates the JSON of a config.json.
func ParseConfig(data []byte) (Config, error) {
	var r rawConfig
	if err := json.Unmarshal(data, &r); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	c := Config{TiedDecoder: r.TieEmbeddng == nil || *r.TieEmbeddng}
	act := "gelu"
	var missing []string
	need := func(p *int, key string) int {
		if p == nil {
			missing = append(missing, key)
			return 0
		}
		return *p
	}
	switch r.ModelType {
	case "bert":
		c.Arch = BERT
		c.Hidden = need(r.HiddenSize, "hidden_size")
		c.Layers = need(r.NumHiddenLayers, "num_hidden_layers")
		c.Heads = need(r.NumAttentionHeads, "num_attention_heads")
		c.Intermediate = need(r.IntermediateSize, "intermediate_size")
		c.TypeVocab = 2
		if r.TypeVocabSize != nil {
			c.TypeVocab = *r.TypeVocabSize
		}
		c.LayerNormEps = 1e-12
		if r.LayerNormEps != nil {
			c.LayerNormEps = float32(*r.LayerNormEps)
		}
		if r.HiddenAct != nil {
			act = *r.HiddenAct
		}
		if r.PosEmbType != nil && *r.PosEmbType != "absolute" {
			return Config{}, fmt.Errorf("config: position_embedding_type %q is not supported (only \"absolute\")", *r.PosEmbType)
		}
	case "distilbert":
		c.Arch = DistilBERT
		c.Hidden = need(r.Dim, "dim")
		c.Layers = need(r.NLayers, "n_layers")
		c.Heads = need(r.NHeads, "n_heads")
		c.Intermediate = need(r.HiddenDim, "hidden_dim")
		c.LayerNormEps = 1e-12 // fixed in DistilBERT's code, not in its config
		if r.Activation != nil {
			act = *r.Activation
		}
	case "":
		return Config{}, fmt.Errorf("config: no model_type (want \"bert\" or \"distilbert\")")
	default:
		return Config{}, fmt.Errorf("config: model_type %q is not supported (want \"bert\" or \"distilbert\")", r.ModelType)
	}
	c.Vocab = need(r.VocabSize, "vocab_size")
	c.MaxPositions = need(r.MaxPos, "max_position_embeddings")
	if len(missing) > 0 {
		return Config{}, fmt.Errorf("config: %s model without %v", r.ModelType, missing)
	}
	if act != "gelu" {
		return Config{}, fmt.Errorf("config: activation %q is not supported (only \"gelu\", the exact erf GELU)", act)
	}
	return c, c.Validate()
}

// Validate checks that the sizes are positive, consistent and within the
// limits this package accepts.
func (c Config) Validate() error {
	check := func(name string, v, lo, hi int) error {
		if v < lo || v > hi {
			return fmt.Errorf("config: %s = %d, want %d..%d", name, v, lo, hi)
		}
		return nil
	}
	for _, e := range []error{
		check("hidden size", c.Hidden, 1, maxHidden),
		check("layers", c.Layers, 1, maxLayers),
		check("attention heads", c.Heads, 1, c.Hidden),
		check("intermediate size", c.Intermediate, 1, 8*maxHidden),
		check("vocab_size", c.Vocab, 1, maxVocab),
		check("max_position_embeddings", c.MaxPositions, 3, maxPositions),
	} {
		if e != nil {
			return e
		}
	}
	if c.Hidden%c.Heads != 0 {
		return fmt.Errorf("config: hidden size %d is not a multiple of %d heads", c.Hidden, c.Heads)
	}
	if c.Arch == BERT {
		if err := check("type_vocab_size", c.TypeVocab, 1, 1<<10); err != nil {
			return err
		}
	}
	if !(c.LayerNormEps > 0 && c.LayerNormEps < 1) {
		return fmt.Errorf("config: layer_norm_eps = %g, want a small positive number", c.LayerNormEps)
	}
	return nil
}
