package model

import (
	"fmt"
	"sort"
	"sync"

	"github.com/splade-go/splade/kernels"
	"github.com/splade-go/splade/sparse"
	"github.com/splade-go/splade/tokenize"
)

// Default maximum lengths in tokens, [CLS] and [SEP] included, as naver's
// SPLADE training and evaluation scripts use them.
const (
	DefaultDocLength   = 256
	DefaultQueryLength = 64
)

// DefaultBatchTokens is the default token budget of one forward pass.
const DefaultBatchTokens = 4096

// Options configure an Encoder.
type Options struct {
	Pooling   kernels.Pooling // PoolMax (default) or PoolSum
	MaxLength int             // tokens per text incl. [CLS]/[SEP]; 0: DefaultDocLength, capped by the model
	TopK      int             // keep the k heaviest terms; 0: all
	Threshold float32         // drop weights below it; weights are always > 0
	Threads   int             // intra-op parallelism; 0: GOMAXPROCS
	// BatchTokens bounds the tokens of one forward pass (0:
	// DefaultBatchTokens); larger inputs are split. It bounds memory: the
	// activations take about BatchTokens*(8*Hidden+Intermediate) floats.
	BatchTokens int
}

// Weights is a SPLADE vector by term id: IDs ascending, Values > 0.
type Weights struct {
	IDs    []int32
	Values []float32
}

// Encoder turns texts or token ids into SPLADE vectors. It is safe for
// concurrent use; concurrent calls share the thread pool's size, not its
// workers, so one caller with Threads workers is the efficient setup.
type Encoder struct {
	m     *Model
	tok   *tokenize.Tokenizer
	opts  Options
	pool  *kernels.Pool
	vocab []string
	bufs  sync.Pool // *scratch
}

// NewEncoder returns an encoder for m. tok may be nil when only EncodeIDs
// is used; otherwise its vocabulary must match the model's.
func NewEncoder(m *Model, tok *tokenize.Tokenizer, o Options) (*Encoder, error) {
	if o.MaxLength <= 0 {
		o.MaxLength = DefaultDocLength
	}
	o.MaxLength = min(o.MaxLength, m.Config.MaxPositions)
	if o.BatchTokens <= 0 {
		o.BatchTokens = DefaultBatchTokens
	}
	if o.Pooling != kernels.PoolMax && o.Pooling != kernels.PoolSum {
		return nil, fmt.Errorf("unknown pooling %d", o.Pooling)
	}
	if o.TopK < 0 || o.Threshold < 0 {
		return nil, fmt.Errorf("top-k %d and threshold %g must not be negative", o.TopK, o.Threshold)
	}
	e := &Encoder{m: m, tok: tok, opts: o, pool: kernels.NewPool(o.Threads)}
	if tok != nil {
		if tok.VocabSize() != m.Config.Vocab {
			return nil, fmt.Errorf("tokenizer has %d entries but the model's vocab_size is %d", tok.VocabSize(), m.Config.Vocab)
		}
		e.vocab = tok.Vocab()
	}
	e.bufs.New = func() any { return new(scratch) }
	return e, nil
}

// Options returns the options in effect (defaults filled in).
func (e *Encoder) Options() Options { return e.opts }

// Model returns the encoder's model.
func (e *Encoder) Model() *Model { return e.m }

// Tokenizer returns the encoder's tokenizer (nil if none).
func (e *Encoder) Tokenizer() *tokenize.Tokenizer { return e.tok }

// EncodeIDs computes the SPLADE vectors of token id sequences (each with
// its [CLS] and [SEP], as tokenize.Tokenizer.Encode returns them). The
// batch is cut into forward passes of at most BatchTokens tokens, in input
// order: nothing is padded, so grouping texts by length would save no work.
func (e *Encoder) EncodeIDs(batch [][]int32) ([]Weights, error) {
	if err := e.m.CheckIDs(batch); err != nil {
		return nil, err
	}
	out := make([]Weights, len(batch))
	sc := e.bufs.Get().(*scratch)
	defer e.bufs.Put(sc)
	// Hold this goroutine and the pool's workers on CPUs of their own for
	// the forward passes (kernels.Pool explains why).
	unpin := e.pool.Pin()
	defer unpin()
	V := e.m.Config.Vocab
	for lo := 0; lo < len(batch); {
		hi, tokens := lo+1, len(batch[lo])
		for hi < len(batch) && tokens+len(batch[hi]) <= e.opts.BatchTokens {
			tokens += len(batch[hi])
			hi++
		}
		dense := e.m.forward(e.pool, sc, batch[lo:hi], e.opts.Pooling)
		for s := lo; s < hi; s++ {
			out[s] = e.sparsify(dense[(s-lo)*V : (s-lo+1)*V])
		}
		lo = hi
	}
	return out, nil
}

// sparsify keeps the positive weights that pass the threshold and top-k.
func (e *Encoder) sparsify(row []float32) Weights {
	var w Weights
	for j, v := range row {
		if v > 0 && v >= e.opts.Threshold {
			w.IDs = append(w.IDs, int32(j))
			w.Values = append(w.Values, v)
		}
	}
	if k := e.opts.TopK; k > 0 && len(w.IDs) > k {
		idx := make([]int, len(w.IDs))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(a, b int) bool {
			va, vb := w.Values[idx[a]], w.Values[idx[b]]
			if va != vb {
				return va > vb
			}
			return idx[a] < idx[b]
		})
		idx = idx[:k]
		sort.Ints(idx)
		top := Weights{IDs: make([]int32, k), Values: make([]float32, k)}
		for i, x := range idx {
			top.IDs[i], top.Values[i] = w.IDs[x], w.Values[x]
		}
		w = top
	}
	return w
}

// Tokenize returns the model input of each text: [CLS], wordpieces
// truncated to MaxLength, [SEP].
func (e *Encoder) Tokenize(texts []string) ([][]int32, error) {
	if e.tok == nil {
		return nil, fmt.Errorf("encoder has no tokenizer")
	}
	ids := make([][]int32, len(texts))
	for i, t := range texts {
		ids[i] = e.tok.Encode(t, e.opts.MaxLength)
	}
	return ids, nil
}

// Encode tokenizes and encodes texts into vectors over wordpiece strings,
// heaviest terms first.
func (e *Encoder) Encode(texts []string) ([]sparse.Vector, error) {
	ids, err := e.Tokenize(texts)
	if err != nil {
		return nil, err
	}
	ws, err := e.EncodeIDs(ids)
	if err != nil {
		return nil, err
	}
	out := make([]sparse.Vector, len(ws))
	for i, w := range ws {
		out[i] = e.Vector(w)
	}
	return out, nil
}

// Vector converts term ids to the tokenizer's wordpiece strings, heaviest
// first. Without a tokenizer the terms are the decimal ids.
func (e *Encoder) Vector(w Weights) sparse.Vector {
	v := sparse.Vector{Terms: make([]string, len(w.IDs)), Weights: append([]float32(nil), w.Values...)}
	for i, id := range w.IDs {
		if e.vocab != nil {
			v.Terms[i] = e.vocab[id]
		} else {
			v.Terms[i] = fmt.Sprint(id)
		}
	}
	v.SortByWeight()
	return v
}
