package train

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/splade-go/splade/kernels"
	"github.com/splade-go/splade/model"
	"github.com/splade-go/splade/tokenize"
)

// Param is one trainable tensor under its Hugging Face name: the values W
// and the gradient G (same length), which Backward accumulates into and
// ZeroGrad clears. Decay reports whether AdamW applies weight decay to it
// (weight matrices and embeddings; not biases or LayerNorm parameters).
type Param struct {
	Name  string
	Shape []int
	W, G  []float32
	Decay bool
}

// Model is a BERT or DistilBERT masked-language model with its SPLADE
// head, in a form that can be trained: plain float32 weights with
// gradients. It is not safe for concurrent use; one Model runs its
// kernels on its own pool of threads.
type Model struct {
	Config model.Config

	wordEmb, wordEmbG []float32 // [Vocab][Hidden]
	posEmb, posEmbG   []float32 // [MaxPositions][Hidden]
	typeEmb, typeEmbG []float32 // [TypeVocab][Hidden] (BERT; row 0 is used)
	embLN             layerNorm
	layers            []block
	transform         linear
	transformLN       layerNorm
	// decoder is tied to wordEmb (same slices) unless Config.TiedDecoder
	// is false.
	decoder, decoderG []float32 // [Vocab][Hidden]
	decBias, decBiasG []float32 // [Vocab]
	// decoderT is the decoder transposed, [Hidden][Vocab], refreshed by
	// every sum-pooled forward pass (see transposeDecoder).
	decoderT []float32

	params  []*Param
	pool    *kernels.Pool
	scratch backwardScratch
}

// backwardScratch holds the gradient buffers of a backward pass, reused
// (fresh large allocations every step would make the garbage collector
// interrupt the kernels).
type backwardScratch struct {
	dHead, d1, d2, dffn, dqkv []float32
}

// block is one post-LayerNorm transformer layer.
type block struct {
	qkv    linear // query, key, value fused: [3H][H]
	out    linear
	attnLN layerNorm
	ffn1   linear
	ffn2   linear
	ffnLN  layerNorm
	attn   attention
}

// NewConfig returns the config of a model trained from scratch: vocab is
// the size of the vocab.txt, intermediate size 4*hidden, 512 positions,
// LayerNorm epsilon 1e-12, decoder tied to the word embeddings.
func NewConfig(arch model.Arch, layers, hidden, heads, vocab int) model.Config {
	c := model.Config{Arch: arch, Hidden: hidden, Layers: layers, Heads: heads, Intermediate: 4 * hidden,
		Vocab: vocab, MaxPositions: 512, LayerNormEps: 1e-12, TiedDecoder: true}
	if arch == model.BERT {
		c.TypeVocab = 2
	}
	return c
}

// ConfigFromVocab returns NewConfig with the vocabulary size of a
// vocab.txt (or a tokenizer directory) at path.
func ConfigFromVocab(arch model.Arch, layers, hidden, heads int, path string) (model.Config, []string, error) {
	vocab, err := tokenize.ReadVocab(path)
	if err != nil {
		return model.Config{}, nil, err
	}
	c := NewConfig(arch, layers, hidden, heads, len(vocab))
	return c, vocab, c.Validate()
}

// New returns a model of the given shape initialized as Hugging Face
// initializes BERT: weights and embeddings normal(0, 0.02), the [PAD] (id
// 0) word embedding zero, biases 0, LayerNorm gains 1. The same seed gives
// the same weights.
func New(cfg model.Config, seed uint64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	ts := model.ParamNames(cfg)
	for i := range ts {
		t := &ts[i]
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		t.Data = make([]float32, n)
		switch {
		case isNorm(t.Name) && strings.HasSuffix(t.Name, ".weight"):
			for j := range t.Data {
				t.Data[j] = 1
			}
		case len(t.Shape) == 2:
			for j := range t.Data {
				t.Data[j] = float32(0.02 * rng.NormFloat64())
			}
			if strings.Contains(t.Name, "word_embeddings") {
				clear(t.Data[:cfg.Hidden])
			}
		}
	}
	return FromTensors(cfg, ts)
}

func isNorm(name string) bool {
	return strings.Contains(name, "LayerNorm") || strings.Contains(name, "layer_norm")
}

// FromModel copies the weights of an inference model (model.Load,
// model.NewRandom) into a training model.
func FromModel(m *model.Model) (*Model, error) {
	return FromTensors(m.Config, m.Tensors())
}

// Load reads any checkpoint the encoder loads (model.Load) for training.
func Load(dir string) (*Model, error) {
	m, err := model.Load(dir)
	if err != nil {
		return nil, err
	}
	return FromModel(m)
}

// FromTensors builds a training model from tensors named as
// model.ParamNames(cfg) lists them (their data is copied).
func FromTensors(cfg model.Config, ts []model.Tensor) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	byName := make(map[string]*model.Tensor, len(ts))
	for i := range ts {
		byName[ts[i].Name] = &ts[i]
	}
	m := &Model{Config: cfg, pool: kernels.NewPool(0)}
	var err error
	// param registers a tensor as a Param whose W and G are views of the
	// given buffers.
	param := func(name string, w, g []float32, shape ...int) {
		t, ok := byName[name]
		if err != nil {
			return
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		if !ok {
			err = fmt.Errorf("tensors: missing %q", name)
			return
		}
		if len(t.Data) != n || len(t.Shape) != len(shape) {
			err = fmt.Errorf("tensors: %q has shape %v, want %v", name, t.Shape, shape)
			return
		}
		copy(w, t.Data)
		m.params = append(m.params, &Param{Name: name, Shape: shape, W: w, G: g,
			Decay: len(shape) == 2})
	}
	H, I, V := cfg.Hidden, cfg.Intermediate, cfg.Vocab
	buf := func(n int) ([]float32, []float32) { return make([]float32, n), make([]float32, n) }
	newLN := func(name string) layerNorm {
		ln := layerNorm{dim: H, eps: cfg.LayerNormEps}
		ln.gamma, ln.gGamma = buf(H)
		ln.beta, ln.gBeta = buf(H)
		param(name+".weight", ln.gamma, ln.gGamma, H)
		param(name+".bias", ln.beta, ln.gBeta, H)
		return ln
	}
	newLinear := func(name string, out, in int) linear {
		l := linear{in: in, out: out}
		l.w, l.gw = buf(out * in)
		l.b, l.gb = buf(out)
		param(name+".weight", l.w, l.gw, out, in)
		param(name+".bias", l.b, l.gb, out)
		return l
	}
	// fused registers three [H][H] projections as views of one [3H][H]
	// linear layer.
	fused := func(names [3]string) linear {
		l := linear{in: H, out: 3 * H}
		l.w, l.gw = buf(3 * H * H)
		l.b, l.gb = buf(3 * H)
		for i, n := range names {
			param(n+".weight", l.w[i*H*H:(i+1)*H*H], l.gw[i*H*H:(i+1)*H*H], H, H)
			param(n+".bias", l.b[i*H:(i+1)*H], l.gb[i*H:(i+1)*H], H)
		}
		return l
	}
	pre := "bert."
	if cfg.Arch == model.DistilBERT {
		pre = "distilbert."
	}
	m.wordEmb, m.wordEmbG = buf(V * H)
	param(pre+"embeddings.word_embeddings.weight", m.wordEmb, m.wordEmbG, V, H)
	m.posEmb, m.posEmbG = buf(cfg.MaxPositions * H)
	param(pre+"embeddings.position_embeddings.weight", m.posEmb, m.posEmbG, cfg.MaxPositions, H)
	if cfg.Arch == model.BERT {
		m.typeEmb, m.typeEmbG = buf(cfg.TypeVocab * H)
		param(pre+"embeddings.token_type_embeddings.weight", m.typeEmb, m.typeEmbG, cfg.TypeVocab, H)
	}
	m.embLN = newLN(pre + "embeddings.LayerNorm")
	for i := 0; i < cfg.Layers; i++ {
		var b block
		b.attn = attention{hidden: H, heads: cfg.Heads}
		if cfg.Arch == model.BERT {
			p := fmt.Sprintf("bert.encoder.layer.%d.", i)
			b.qkv = fused([3]string{p + "attention.self.query", p + "attention.self.key", p + "attention.self.value"})
			b.out = newLinear(p+"attention.output.dense", H, H)
			b.attnLN = newLN(p + "attention.output.LayerNorm")
			b.ffn1 = newLinear(p+"intermediate.dense", I, H)
			b.ffn2 = newLinear(p+"output.dense", H, I)
			b.ffnLN = newLN(p + "output.LayerNorm")
		} else {
			p := fmt.Sprintf("distilbert.transformer.layer.%d.", i)
			b.qkv = fused([3]string{p + "attention.q_lin", p + "attention.k_lin", p + "attention.v_lin"})
			b.out = newLinear(p+"attention.out_lin", H, H)
			b.attnLN = newLN(p + "sa_layer_norm")
			b.ffn1 = newLinear(p+"ffn.lin1", I, H)
			b.ffn2 = newLinear(p+"ffn.lin2", H, I)
			b.ffnLN = newLN(p + "output_layer_norm")
		}
		m.layers = append(m.layers, b)
	}
	var decName, biasName string
	if cfg.Arch == model.BERT {
		m.transform = newLinear("cls.predictions.transform.dense", H, H)
		m.transformLN = newLN("cls.predictions.transform.LayerNorm")
		decName, biasName = "cls.predictions.decoder.weight", "cls.predictions.bias"
	} else {
		m.transform = newLinear("vocab_transform", H, H)
		m.transformLN = newLN("vocab_layer_norm")
		decName, biasName = "vocab_projector.weight", "vocab_projector.bias"
	}
	m.decBias, m.decBiasG = buf(V)
	param(biasName, m.decBias, m.decBiasG, V)
	if cfg.TiedDecoder {
		m.decoder, m.decoderG = m.wordEmb, m.wordEmbG
	} else {
		m.decoder, m.decoderG = buf(V * H)
		param(decName, m.decoder, m.decoderG, V, H)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Params returns the trainable parameters in model.ParamNames order.
func (m *Model) Params() []*Param { return m.params }

// NumParams returns the number of trainable scalars.
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.params {
		n += len(p.W)
	}
	return n
}

// SetThreads sets the number of threads the kernels use (n <= 0:
// GOMAXPROCS). Results depend on it only through the partial sums of the
// sum-pooled and MLM heads' backward; see the package doc.
func (m *Model) SetThreads(n int) { m.pool = kernels.NewPool(n) }

// Threads returns the number of threads.
func (m *Model) Threads() int { return m.pool.Threads() }

// ZeroGrad clears every gradient.
func (m *Model) ZeroGrad() {
	for _, p := range m.params {
		g := p.G
		m.pool.For(len(g), 1<<16, func(lo, hi int) { clear(g[lo:hi]) })
	}
}

// Tensors returns copies of the weights under their Hugging Face names.
func (m *Model) Tensors() []model.Tensor {
	out := make([]model.Tensor, len(m.params))
	for i, p := range m.params {
		out[i] = model.Tensor{Name: p.Name, Shape: append([]int(nil), p.Shape...), Data: append([]float32(nil), p.W...)}
	}
	return out
}

// Inference returns an inference model (model.Encoder's) with the
// current weights.
func (m *Model) Inference() (*model.Model, error) {
	return model.FromTensors(m.Config, m.Tensors())
}

// Save writes the model as a Hugging Face checkpoint directory
// (config.json, model.safetensors, and with a vocab vocab.txt and
// tokenizer_config.json) that model.Load reads back bit for bit.
func (m *Model) Save(dir string, vocab []string) error {
	return model.SaveDir(dir, m.Config, m.Tensors(), vocab)
}

// CheckIDs reports the first input the model cannot take: an empty text,
// a token id outside the vocabulary, or a text longer than the position
// embeddings.
func (m *Model) CheckIDs(batch [][]int32) error {
	if len(batch) == 0 {
		return fmt.Errorf("empty batch")
	}
	for s, ids := range batch {
		if len(ids) == 0 {
			return fmt.Errorf("input %d is empty", s)
		}
		if len(ids) > m.Config.MaxPositions {
			return fmt.Errorf("input %d has %d tokens, the model takes at most %d", s, len(ids), m.Config.MaxPositions)
		}
		for i, id := range ids {
			if id < 0 || int(id) >= m.Config.Vocab {
				return fmt.Errorf("input %d: token %d has id %d, outside the vocabulary of %d", s, i, id, m.Config.Vocab)
			}
		}
	}
	return nil
}
