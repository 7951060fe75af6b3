package model

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/splade-go/splade/kernels"
)

// Saving and exchanging weights. A Model keeps its weights packed for the
// kernels, which is the wrong form for training (package train) and for
// writing a checkpoint; Tensors and FromTensors convert between a Model and
// the plain named tensors of the Hugging Face layout, and SaveDir writes
// such tensors as a checkpoint directory that Load (and HF transformers,
// by names, shapes and dtype) reads back.

// Tensor is one named float32 parameter in Hugging Face layout: Data is
// row-major with the given Shape (e.g. a linear weight is [out][in]).
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// ParamNames returns the Hugging Face names and shapes of the parameters
// of an encoder of the given config, in a fixed order: embeddings, layers,
// MLM head. A tied decoder has no weight of its own (HF saves it once,
// as the word embeddings).
func ParamNames(cfg Config) []Tensor {
	H, I, V := cfg.Hidden, cfg.Intermediate, cfg.Vocab
	var out []Tensor
	add := func(name string, shape ...int) { out = append(out, Tensor{Name: name, Shape: shape}) }
	lin := func(name string, o, i int) { add(name+".weight", o, i); add(name+".bias", o) }
	ln := func(name string) { add(name+".weight", H); add(name+".bias", H) }
	if cfg.Arch == BERT {
		add("bert.embeddings.word_embeddings.weight", V, H)
		add("bert.embeddings.position_embeddings.weight", cfg.MaxPositions, H)
		add("bert.embeddings.token_type_embeddings.weight", cfg.TypeVocab, H)
		ln("bert.embeddings.LayerNorm")
		for l := 0; l < cfg.Layers; l++ {
			p := fmt.Sprintf("bert.encoder.layer.%d.", l)
			lin(p+"attention.self.query", H, H)
			lin(p+"attention.self.key", H, H)
			lin(p+"attention.self.value", H, H)
			lin(p+"attention.output.dense", H, H)
			ln(p + "attention.output.LayerNorm")
			lin(p+"intermediate.dense", I, H)
			lin(p+"output.dense", H, I)
			ln(p + "output.LayerNorm")
		}
		lin("cls.predictions.transform.dense", H, H)
		ln("cls.predictions.transform.LayerNorm")
		add("cls.predictions.bias", V)
		if !cfg.TiedDecoder {
			add("cls.predictions.decoder.weight", V, H)
		}
		return out
	}
	add("distilbert.embeddings.word_embeddings.weight", V, H)
	add("distilbert.embeddings.position_embeddings.weight", cfg.MaxPositions, H)
	ln("distilbert.embeddings.LayerNorm")
	for l := 0; l < cfg.Layers; l++ {
		p := fmt.Sprintf("distilbert.transformer.layer.%d.", l)
		lin(p+"attention.q_lin", H, H)
		lin(p+"attention.k_lin", H, H)
		lin(p+"attention.v_lin", H, H)
		lin(p+"attention.out_lin", H, H)
		ln(p + "sa_layer_norm")
		lin(p+"ffn.lin1", I, H)
		lin(p+"ffn.lin2", H, I)
		ln(p + "output_layer_norm")
	}
	lin("vocab_transform", H, H)
	ln("vocab_layer_norm")
	add("vocab_projector.bias", V)
	if !cfg.TiedDecoder {
		add("vocab_projector.weight", V, H)
	}
	return out
}

// Tensors returns the weights of m under their Hugging Face names, in
// ParamNames order. Packed matrices are unpacked by multiplying the
// identity with them, which is exact (every product is w*1 or w*0, every
// sum adds zeros), except that -0 comes back as +0.
func (m *Model) Tensors() []Tensor {
	c := &m.Config
	H := c.Hidden
	ts := ParamNames(*c)
	byName := make(map[string][]float32)
	set := func(name string, data []float32) { byName[name] = data }
	lin := func(name string, p *kernels.Packed, bias []float32) {
		set(name+".weight", unpack(p))
		set(name+".bias", bias)
	}
	ln := func(name string, l layerNorm) { set(name+".weight", l.gamma); set(name+".bias", l.beta) }
	splitQKV := func(p *kernels.Packed, bias []float32, names [3]string) {
		w := unpack(p)
		for i, n := range names {
			set(n+".weight", w[i*H*H:(i+1)*H*H])
			set(n+".bias", bias[i*H:(i+1)*H])
		}
	}
	if c.Arch == BERT {
		set("bert.embeddings.word_embeddings.weight", m.wordEmb)
		set("bert.embeddings.position_embeddings.weight", m.posEmb)
		// Inference uses token type 0 only, but buildFrom slices it out of
		// the whole table, which is still there behind the slice.
		te := make([]float32, c.TypeVocab*H)
		copy(te, m.typeEmb[:min(cap(m.typeEmb), len(te))])
		set("bert.embeddings.token_type_embeddings.weight", te)
		ln("bert.embeddings.LayerNorm", m.embLN)
		for i := range m.layers {
			l := &m.layers[i]
			p := fmt.Sprintf("bert.encoder.layer.%d.", i)
			splitQKV(l.qkv, l.qkvBias, [3]string{p + "attention.self.query", p + "attention.self.key", p + "attention.self.value"})
			lin(p+"attention.output.dense", l.out, l.outBias)
			ln(p+"attention.output.LayerNorm", l.attnLN)
			lin(p+"intermediate.dense", l.ffn1, l.ffn1B)
			lin(p+"output.dense", l.ffn2, l.ffn2B)
			ln(p+"output.LayerNorm", l.ffnLN)
		}
		lin("cls.predictions.transform.dense", m.transform, m.transformBias)
		ln("cls.predictions.transform.LayerNorm", m.transformLN)
		set("cls.predictions.bias", m.decoderBias)
		if !c.TiedDecoder {
			set("cls.predictions.decoder.weight", unpack(m.decoder))
		}
	} else {
		set("distilbert.embeddings.word_embeddings.weight", m.wordEmb)
		set("distilbert.embeddings.position_embeddings.weight", m.posEmb)
		ln("distilbert.embeddings.LayerNorm", m.embLN)
		for i := range m.layers {
			l := &m.layers[i]
			p := fmt.Sprintf("distilbert.transformer.layer.%d.", i)
			splitQKV(l.qkv, l.qkvBias, [3]string{p + "attention.q_lin", p + "attention.k_lin", p + "attention.v_lin"})
			lin(p+"attention.out_lin", l.out, l.outBias)
			ln(p+"sa_layer_norm", l.attnLN)
			lin(p+"ffn.lin1", l.ffn1, l.ffn1B)
			lin(p+"ffn.lin2", l.ffn2, l.ffn2B)
			ln(p+"output_layer_norm", l.ffnLN)
		}
		lin("vocab_transform", m.transform, m.transformBias)
		ln("vocab_layer_norm", m.transformLN)
		set("vocab_projector.bias", m.decoderBias)
		if !c.TiedDecoder {
			set("vocab_projector.weight", unpack(m.decoder))
		}
	}
	for i := range ts {
		ts[i].Data = append([]float32(nil), byName[ts[i].Name]...)
	}
	return ts
}

// unpack returns the [Out][In] weight of a packed matrix.
func unpack(p *kernels.Packed) []float32 {
	eye := make([]float32, p.In*p.In)
	for i := 0; i < p.In; i++ {
		eye[i*p.In+i] = 1
	}
	wt := make([]float32, p.In*p.Out) // W^T
	p.MatMul(kernels.NewPool(0), wt, eye, p.In, nil)
	w := make([]float32, p.Out*p.In)
	for i := 0; i < p.In; i++ {
		for j := 0; j < p.Out; j++ {
			w[j*p.In+i] = wt[i*p.Out+j]
		}
	}
	return w
}

// FromTensors builds a Model from named tensors (as Tensors or
// ReadSafetensors return them); every tensor of ParamNames(cfg) must be
// there with its shape. Other names are ignored.
func FromTensors(cfg Config, ts []Tensor) (*Model, error) {
	byName := make(map[string]*Tensor, len(ts))
	for i := range ts {
		byName[ts[i].Name] = &ts[i]
	}
	var missing error
	src := &source{ck: &checkpoint{name: "tensors"}, random: func(name string, shape []int) []float32 {
		if name == "cls.predictions.decoder.bias" {
			name = "cls.predictions.bias" // buildFrom asks for the tied alias
		}
		t, ok := byName[name]
		switch {
		case !ok:
			if missing == nil {
				missing = fmt.Errorf("tensors: missing %q", name)
			}
		case !sameShape(t.Shape, shape) || len(t.Data) != prod(shape):
			if missing == nil {
				missing = fmt.Errorf("tensors: %q has shape %v (%d values), want %v", name, t.Shape, len(t.Data), shape)
			}
		default:
			return append([]float32(nil), t.Data...)
		}
		return make([]float32, prod(shape))
	}}
	m, err := buildFrom(cfg, src)
	if err != nil {
		return nil, err
	}
	if missing != nil {
		return nil, missing
	}
	return m, nil
}

func prod(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// WriteSafetensors writes tensors as an F32 safetensors file (names
// sorted in the header, data in the same order, 8-byte aligned as the
// reference implementation writes it). metadata may be nil.
func WriteSafetensors(path string, ts []Tensor, metadata map[string]string) error {
	sorted := append([]Tensor(nil), ts...)
	sort.Slice(sorted, func(a, b int) bool { return sorted[a].Name < sorted[b].Name })
	header := make(map[string]any, len(ts)+1)
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var off int64
	for i, t := range sorted {
		if len(t.Data) != prod(t.Shape) {
			return fmt.Errorf("%s: tensor %q has %d values for shape %v", path, t.Name, len(t.Data), t.Shape)
		}
		if i > 0 && sorted[i-1].Name == t.Name {
			return fmt.Errorf("%s: tensor %q given twice", path, t.Name)
		}
		n := int64(4 * len(t.Data))
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = stEntry{Dtype: "F32", Shape: shape, DataOffsets: []int64{off, off + n}}
		off += n
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for len(hb)%8 != 0 {
		hb = append(hb, ' ')
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hb)))
	w.Write(lenBuf[:])
	w.Write(hb)
	var b [4]byte
	for _, t := range sorted {
		for _, v := range t.Data {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			w.Write(b[:])
		}
	}
	err = w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// ReadSafetensors reads every tensor of a safetensors file (F32, F16,
// BF16 or F64, converted to float32), sorted by name.
func ReadSafetensors(path string) ([]Tensor, error) {
	ck, closeFn, err := openSafetensors(path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	names := make([]string, 0, len(ck.tensors))
	for n := range ck.tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Tensor, 0, len(names))
	for _, n := range names {
		t := ck.tensors[n]
		data, err := t.read()
		if err != nil {
			return nil, err
		}
		out = append(out, Tensor{Name: n, Shape: t.shape, Data: data})
	}
	return out, nil
}

// ConfigJSON returns the Hugging Face config.json of cfg
// (BertForMaskedLM or DistilBertForMaskedLM).
func (c Config) ConfigJSON() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var m map[string]any
	if c.Arch == BERT {
		m = map[string]any{
			"architectures": []string{"BertForMaskedLM"}, "model_type": "bert",
			"vocab_size": c.Vocab, "hidden_size": c.Hidden, "num_hidden_layers": c.Layers,
			"num_attention_heads": c.Heads, "intermediate_size": c.Intermediate, "hidden_act": "gelu",
			"max_position_embeddings": c.MaxPositions, "type_vocab_size": c.TypeVocab,
			// the shortest decimal of the float32 (1e-12, not 9.99999996e-13)
			"layer_norm_eps": json.Number(strconv.FormatFloat(float64(c.LayerNormEps), 'g', -1, 32)), "pad_token_id": 0,
			"position_embedding_type": "absolute", "tie_word_embeddings": c.TiedDecoder,
		}
	} else {
		m = map[string]any{
			"architectures": []string{"DistilBertForMaskedLM"}, "model_type": "distilbert",
			"vocab_size": c.Vocab, "dim": c.Hidden, "n_layers": c.Layers, "n_heads": c.Heads,
			"hidden_dim": c.Intermediate, "activation": "gelu", "max_position_embeddings": c.MaxPositions,
			"sinusoidal_pos_embds": false, "pad_token_id": 0, "tie_word_embeddings": c.TiedDecoder,
		}
	}
	return json.MarshalIndent(m, "", "  ")
}

// SaveDir writes a checkpoint directory in Hugging Face layout:
// config.json, model.safetensors (F32, HF names), and, when vocab is not
// nil, vocab.txt and tokenizer_config.json (uncased BERT WordPiece). The
// tensors must be those of ParamNames(cfg).
func SaveDir(dir string, cfg Config, ts []Tensor, vocab []string) error {
	want := ParamNames(cfg)
	have := make(map[string]*Tensor, len(ts))
	for i := range ts {
		have[ts[i].Name] = &ts[i]
	}
	for _, w := range want {
		t, ok := have[w.Name]
		if !ok {
			return fmt.Errorf("saving %s: missing tensor %q", dir, w.Name)
		}
		if !sameShape(t.Shape, w.Shape) {
			return fmt.Errorf("saving %s: tensor %q has shape %v, want %v", dir, w.Name, t.Shape, w.Shape)
		}
	}
	if vocab != nil && len(vocab) != cfg.Vocab {
		return fmt.Errorf("saving %s: %d vocabulary entries but vocab_size is %d", dir, len(vocab), cfg.Vocab)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cj, err := cfg.ConfigJSON()
	if err != nil {
		return fmt.Errorf("saving %s: %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), append(cj, '\n'), 0o644); err != nil {
		return err
	}
	if err := WriteSafetensors(filepath.Join(dir, "model.safetensors"), ts, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	if vocab == nil {
		return nil
	}
	for i, v := range vocab {
		if v == "" || strings.ContainsAny(v, "\n\r") {
			return fmt.Errorf("saving %s: vocabulary entry %d (%q) cannot be written to vocab.txt", dir, i, v)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "vocab.txt"), []byte(strings.Join(vocab, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	tc, _ := json.MarshalIndent(map[string]any{
		"do_lower_case": true, "model_max_length": cfg.MaxPositions, "tokenizer_class": "BertTokenizer",
	}, "", "  ")
	return os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), append(tc, '\n'), 0o644)
}
