// Package synth generates synthetic sparse collections whose statistics
// resemble SPLADE++ encodings of MS MARCO, so that indexing, query
// processing and their benchmarks can be exercised at the scale of millions
// of documents without a GPU, a model or the corpus.
//
// What makes learned sparse retrieval different from BM25 for an index is
// its shape, and that is what the generator reproduces:
//
//   - documents have ~130 non-zeros on average with a skewed (log-normal)
//     spread, a few dozen for short passages and several hundred for long;
//   - a head of expansion terms is present in a large fraction of documents
//     with mid-range weights: their posting lists are long and their
//     impacts not small, which is what defeats dynamic pruning (MaxScore,
//     WAND) on SPLADE indexes;
//   - the rest of the vocabulary has Zipfian popularity;
//   - documents are drawn around topics, and each query is written about one
//     document (as an MS MARCO query is about its judged passage), reusing
//     that document's heaviest terms, so that relevant documents exist and
//     are known (RelevantDoc);
//   - queries have ~44 non-zeros with weights matched to the real SPLADE++
//     EnsembleDistil query encodings of MS MARCO dev (median weight ~0.27,
//     a tenth above ~1.5, the heaviest term of a query near 2.5-3);
//   - weights lie in SPLADE's range (0, 3.5], most of them small;
//   - FLOPS (the expected number of shared non-zeros of a query-document
//     pair) comes out between 1 and 5, the range reported for SPLADE models.
//
// Terms are named "t00042" rather than taken from a WordPiece vocabulary so
// that the generator needs no data files. Every vector is a pure function of
// (options, kind, index): the generator holds only read-only tables built by
// New, so Doc and Query may be called concurrently and in any order.
package synth

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/splade-go/splade/sparse"
)

// Options configure a collection. Zero values select the defaults.
type Options struct {
	Docs, Queries int   // collection sizes (Query(i) is about a document in [0, Docs))
	Seed          int64 // different seeds give different collections over the same vocabulary
	Vocab         int   // vocabulary size; default 30522 (BERT's WordPiece vocabulary), at least 352
	Topics        int   // number of topics; default 2000
	DocNNZ        float64
	QueryNNZ      float64 // target mean non-zeros per document (default 130) and query (default 44)
}

const (
	defaultVocab    = 30522
	defaultTopics   = 2000
	defaultDocNNZ   = 130
	defaultQueryNNZ = 44

	headTerms  = 48  // near-ubiquitous expansion terms
	topicTerms = 256 // terms associated with each topic
	maxWeight  = 3.5 // SPLADE weights rarely exceed ~3
	minWeight  = 0.01
	vocabSeed  = 0x5B1ADE // fixed, so every seed shares one term order
)

// Generator produces the documents and queries of one collection.
type Generator struct {
	o         Options
	names     []string  // term id -> name
	rankToID  []int32   // popularity rank -> term id
	headP     []float64 // probability that a document holds head term r
	head      alias     // head terms by probability, for queries
	bg        alias     // Zipfian popularity of the non-head ranks
	topics    alias     // popularity of topics
	inTopic   alias     // affinity of a topic's k-th term
	topicW    []float64 // median document weight of a topic's k-th term
	topicTerm []int32   // topic t's k-th term id at t*topicTerms+k
}

// New builds the generator's tables; it costs a few milliseconds.
func New(o Options) *Generator {
	if o.Vocab <= 0 {
		o.Vocab = defaultVocab
	}
	o.Vocab = max(o.Vocab, 2*headTerms+topicTerms)
	if o.Topics <= 0 {
		o.Topics = defaultTopics
	}
	if o.DocNNZ <= 0 {
		o.DocNNZ = defaultDocNNZ
	}
	if o.QueryNNZ <= 0 {
		o.QueryNNZ = defaultQueryNNZ
	}
	g := &Generator{o: o}

	width := len(strconv.Itoa(o.Vocab - 1))
	g.names = make([]string, o.Vocab)
	for id := range g.names {
		s := strconv.Itoa(id)
		for len(s) < width {
			s = "0" + s
		}
		g.names[id] = "t" + s
	}
	// Popularity is unrelated to the term id, as in a real vocabulary.
	vr := rand.New(rand.NewPCG(vocabSeed, uint64(o.Vocab)))
	g.rankToID = make([]int32, o.Vocab)
	for i, id := range vr.Perm(o.Vocab) {
		g.rankToID[i] = int32(id)
	}

	// Head: probability from ~0.9 for the first term down to ~0.25.
	g.headP = make([]float64, headTerms)
	for r := range g.headP {
		g.headP[r] = 0.9 * math.Pow(float64(r+1), -0.35)
	}
	g.head = newAlias(headTerms, func(r int) float64 { return g.headP[r] })
	g.bg = newAlias(o.Vocab-headTerms, func(r int) float64 { return 1 / float64(r+10) })
	g.topics = newAlias(o.Topics, func(t int) float64 { return math.Pow(float64(t+5), -0.7) })
	g.inTopic = newAlias(topicTerms, func(k int) float64 { return math.Pow(float64(k+1), -0.8) })
	// A topic's core terms get the large impacts.
	g.topicW = make([]float64, topicTerms)
	for k := range g.topicW {
		g.topicW[k] = 1.1 * math.Pow(float64(k+1), -0.3)
	}

	// A topic's terms are drawn from a flattened popularity so that topics
	// overlap on common words but mostly own their specific terms.
	tr := rand.New(rand.NewPCG(uint64(o.Seed), 0x70_91C5))
	flat := newAlias(o.Vocab-headTerms, func(r int) float64 { return math.Pow(float64(r+10), -0.5) })
	g.topicTerm = make([]int32, o.Topics*topicTerms)
	seen := make(map[int32]bool, topicTerms)
	for t := range o.Topics {
		clear(seen)
		for k := 0; k < topicTerms; {
			id := g.rankToID[headTerms+flat.sample(tr)]
			if !seen[id] {
				seen[id] = true
				g.topicTerm[t*topicTerms+k] = id
				k++
			}
		}
	}
	return g
}

// Options returns the options with defaults filled in.
func (g *Generator) Options() Options { return g.o }

// Vocabulary returns the term names by id.
func (g *Generator) Vocabulary() []string { return slices.Clone(g.names) }

// DocID and QueryID are the external ids of document and query i.
func DocID(i int) string   { return strconv.Itoa(i) }
func QueryID(i int) string { return strconv.Itoa(i) }

const (
	kindDoc   = 1
	kindQuery = 2
)

func (g *Generator) rng(kind uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(g.o.Seed)^0x9E3779B97F4A7C15*kind, uint64(i)))
}

// entry is one non-zero while a vector is being built.
type entry struct {
	id int32
	w  float32
}

// docParts is a document before it becomes a record: its topic and its
// heaviest topical terms, from which queries about it are written.
type docParts struct {
	topic   int
	entries []entry
}

// Doc returns document i (any i; the collection is [0, Docs)).
func (g *Generator) Doc(i int) sparse.Record {
	return g.record(DocID(i), g.doc(i).entries)
}

func (g *Generator) doc(i int) docParts {
	r := g.rng(kindDoc, i)
	// Log-normal length: sigma 0.55 puts ~1% of documents under a quarter
	// of the mean and ~1% over three times it.
	const sigma = 0.55
	n := int(math.Round(g.o.DocNNZ * math.Exp(sigma*r.NormFloat64()-sigma*sigma/2)))
	n = min(max(n, 8), 4*int(g.o.DocNNZ)+100, g.o.Vocab/2)
	topic := g.topics.sample(r)
	second := -1
	if r.Float64() < 0.4 {
		second = g.topics.sample(r)
	}

	b := newBuilder(n)
	// Head terms: independent of the rest, longer documents expand more.
	scale := math.Sqrt(min(max(float64(n)/g.o.DocNNZ, 0.3), 1.5))
	for h, p := range g.headP {
		if r.Float64() < min(p*scale, 0.97) {
			b.add(g.rankToID[h], logNormal(r, 0.55, 0.4))
		}
	}
	nTopic := int(0.62 * float64(n))
	for tries := 0; len(b.e) < n && tries < 8*n; tries++ {
		if len(b.e) < nTopic || r.Float64() < 0.1 {
			t := topic
			if second >= 0 && r.Float64() < 0.3 {
				t = second
			}
			k := g.inTopic.sample(r)
			b.add(g.topicTerm[t*topicTerms+k], logNormal(r, g.topicW[k], 0.5))
		} else {
			b.add(g.rankToID[headTerms+g.bg.sample(r)], logNormal(r, 0.22, 0.7))
		}
	}
	return docParts{topic: topic, entries: b.e}
}

// RelevantDoc returns the document that query i is written about, or -1
// when the collection has no documents.
func (g *Generator) RelevantDoc(i int) int {
	if g.o.Docs <= 0 {
		return -1
	}
	return g.rng(kindQuery, i).IntN(g.o.Docs)
}

// Query returns query i. It is written about document RelevantDoc(i): a few
// of that document's heaviest terms with high weights, expansions from its
// topic and the head, and some background terms, as SPLADE query encodings
// mix the query's own words with expansion terms.
func (g *Generator) Query(i int) sparse.Record {
	r := g.rng(kindQuery, i)
	var d docParts
	if g.o.Docs > 0 {
		d = g.doc(r.IntN(g.o.Docs)) // same draw as RelevantDoc
	} else {
		d = docParts{topic: g.topics.sample(r)}
	}
	const sigma = 0.42
	n := int(math.Round(g.o.QueryNNZ * math.Exp(sigma*r.NormFloat64()-sigma*sigma/2)))
	n = min(max(n, 5), int(2.5*g.o.QueryNNZ))

	b := newBuilder(n)
	// The query's own words: among the document's heaviest terms.
	core := slices.Clone(d.entries)
	slices.SortFunc(core, func(a, b entry) int { return -cmpFloat(a.w, b.w) })
	core = core[:min(len(core), 20)]
	nCore := min(len(core), max(2, int(math.Round(0.2*float64(n)))))
	r.Shuffle(len(core), func(a, b int) { core[a], core[b] = core[b], core[a] })
	for _, e := range core[:nCore] {
		b.add(e.id, logNormal(r, 1.4, 0.4))
	}
	for tries := 0; len(b.e) < n && tries < 8*n; tries++ {
		switch u := r.Float64(); {
		case u < 0.55: // topical expansion
			k := g.inTopic.sample(r)
			b.add(g.topicTerm[d.topic*topicTerms+k], logNormal(r, 0.33, 0.8))
		case u < 0.63: // head expansion, small weights
			b.add(g.rankToID[g.head.sample(r)], logNormal(r, 0.08, 0.7))
		default: // background
			b.add(g.rankToID[headTerms+g.bg.sample(r)], logNormal(r, 0.12, 0.8))
		}
	}
	return g.record(QueryID(i), b.e)
}

// builder collects distinct terms; a repeated term keeps its first weight.
// Membership is an open-addressing table of term ids (faster than a map at
// ~130 entries, and generation speed matters at millions of documents).
type builder struct {
	e     []entry
	slots []int32 // term id + 1, 0 for empty
}

func newBuilder(n int) builder {
	size := 64
	for size < 2*n {
		size *= 2
	}
	return builder{e: make([]entry, 0, n), slots: make([]int32, size)}
}

func (b *builder) add(id int32, w float64) {
	mask := uint32(len(b.slots) - 1)
	for h := (uint32(id) * 0x9E3779B1) & mask; ; h = (h + 1) & mask {
		switch b.slots[h] {
		case id + 1:
			return
		case 0:
			if len(b.e) >= len(b.slots)/2 {
				return // full: callers stop at their target size first
			}
			b.slots[h] = id + 1
			b.e = append(b.e, entry{id, float32(w)})
			return
		}
	}
}

// record orders entries by term id (and so by name) and names them. Each
// entry is packed into one integer, id above weight bits, so that the sort
// compares machine words.
func (g *Generator) record(id string, e []entry) sparse.Record {
	packed := make([]uint64, len(e))
	for i, x := range e {
		packed[i] = uint64(x.id)<<32 | uint64(math.Float32bits(x.w))
	}
	slices.Sort(packed)
	v := sparse.Vector{Terms: make([]string, len(e)), Weights: make([]float32, len(e))}
	for i, p := range packed {
		v.Terms[i] = g.names[p>>32]
		v.Weights[i] = math.Float32frombits(uint32(p))
	}
	return sparse.Record{ID: id, Vector: v}
}

// logNormal draws a weight with the given median, rounded to SPLADE's
// usual two decimals (Anserini stores impacts as weight x 100) and clipped
// to [0.01, 3.5].
func logNormal(r *rand.Rand, median, sigma float64) float64 {
	w := median * math.Exp(sigma*r.NormFloat64())
	w = math.Round(w*100) / 100
	return min(max(w, minWeight), maxWeight)
}

// alias is Walker's alias table: O(1) sampling from a discrete
// distribution, built once in New.
type alias struct {
	prob  []float64
	other []int32
}

// newAlias builds a table for weights f(0..n-1) (Vose's construction).
func newAlias(n int, f func(int) float64) alias {
	a := alias{prob: make([]float64, n), other: make([]int32, n)}
	var sum float64
	for i := range n {
		sum += f(i)
	}
	var small, large []int32
	for i := range n {
		a.prob[i] = f(i) * float64(n) / sum
		if a.prob[i] < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		a.other[s] = l
		a.prob[l] -= 1 - a.prob[s]
		if a.prob[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range append(small, large...) {
		a.prob[i] = 1 // leftovers are 1 up to rounding
	}
	return a
}

// sample draws an index: the high 32 bits of one random word pick a column,
// the low 32 bits toss the column's coin.
func (a alias) sample(r *rand.Rand) int {
	u := r.Uint64()
	i := int((u >> 32) * uint64(len(a.prob)) >> 32)
	if float64(uint32(u))*(1.0/(1<<32)) < a.prob[i] {
		return i
	}
	return int(a.other[i])
}

func cmpFloat(a, b float32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
