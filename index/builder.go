package index

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	"strconv"
	"strings"
	"time"

	"github.com/splade-go/splade/sparse"
)

// DefaultRangeSize is the number of consecutive documents that share one
// block-max upper bound (Block-Max Pruning) and by which postings are
// grouped. On a synthetic SPLADE++-like collection of 1M documents, 16 made
// exact BMP twice as fast as 64 (splade bench-search --range-size).
const DefaultRangeSize = 16

// MinRangeSize and MaxRangeSize bound RangeSize, a power of two: a range's
// documents are a 64-bit mask.
const (
	MinRangeSize = 4
	MaxRangeSize = 64
)

func validRangeSize(r int) bool {
	return r >= MinRangeSize && r <= MaxRangeSize && r&(r-1) == 0
}

// DefaultMemoryBudget bounds the postings a Builder buffers before spilling
// a sorted run to disk.
const DefaultMemoryBudget = 1 << 30

// BuildOptions configure a Builder. The zero value is valid.
type BuildOptions struct {
	Quantize Quantization
	// Fingerprint identifies the model and vocabulary that produced the
	// vectors; searches declaring another fingerprint are refused.
	Fingerprint string
	// MemoryBudget is the approximate bytes of postings held in memory
	// before a run is spilled (DefaultMemoryBudget when <= 0). Document ids
	// and lengths (about 40 bytes per document plus the id) stay in memory.
	MemoryBudget int64
	// RangeSize is the number of documents per block-max range
	// (DefaultRangeSize when <= 0).
	RangeSize int
	// Reorder renumbers documents by recursive graph bisection so that
	// documents sharing terms are adjacent (see reorder.go): gaps shrink and
	// block-max range bounds tighten. External ids are unaffected. It holds
	// each document's 32 heaviest terms in memory (128 bytes a document).
	Reorder bool
	// ImpactLevels is the top level of u8 impacts: levels 1..ImpactLevels
	// with scale max weight / ImpactLevels, 1 to 255. Fewer levels make the
	// bit-packed impact streams smaller (about a bit per posting for each
	// halving) and the scores coarser. 0 means MaxImpactLevels (255);
	// other quantizations accept only 0.
	ImpactLevels int
}

// Meta is the content of meta.json.
type Meta struct {
	FormatVersion int     `json:"format_version"`
	Docs          int     `json:"docs"`
	Terms         int     `json:"terms"`
	Postings      int64   `json:"postings"`
	Blocks        int64   `json:"blocks"` // block directory entries
	Quantization  string  `json:"quantization"`
	Scale         float64 `json:"scale"`
	RangeSize     int     `json:"range_size"`
	Ranges        int     `json:"ranges"`
	RangeScale    float64 `json:"range_scale"` // impact units per range maximum unit
	MaxWeight     float64 `json:"max_weight"`
	Fingerprint   string  `json:"fingerprint"`
	Reordered     bool    `json:"reordered"`
	// ImpactLevels is the top level of u8 impacts; absent (0) in f16/f32
	// indexes and in u8 indexes written before it existed, which use 255.
	ImpactLevels int    `json:"impact_levels,omitempty"`
	Created      string `json:"created"`
	// Documents, when > 0, makes this a passage index: Docs counts
	// passages and passages.bin maps each to one of Documents documents.
	Documents int `json:"documents,omitempty"`
}

// Stats summarize a build.
type Stats struct {
	Docs, Terms  int
	Documents    int // documents of a passage index (Docs counts passages); 0 otherwise
	Postings     int64
	Pairs        int64 // (term, range) pairs: postings grouped by range
	DenseTerms   int   // terms whose range maxima are one byte per range
	PostingBytes int64 // postings.bin + blocks.bin payloads: all that query processing reads
	Sizes        Sizes // PostingBytes by stream
	TotalBytes   int64 // all files of the generation, headers, terms and document ids included
	Runs         int   // spilled runs
	BuildTime    time.Duration
	BitsPerPost  float64 // 8*PostingBytes/Postings
	// TotalBitsPerPost is 8*TotalBytes/Postings: the whole generation.
	TotalBitsPerPost float64
	Dir              string // generation directory written
	Quantization     Quantization
	ImpactLevels     int // top level of u8 impacts; 0 for f16/f32
	Fingerprint      string
	MaxWeight        float64
}

type rawPosting struct {
	doc uint32
	w   float32
}

// Builder accumulates documents and writes an index generation.
// Documents receive internal ids in the order they are added.
type Builder struct {
	dir, gen, genDir, runDir string
	opt                      BuildOptions
	start                    time.Time

	ids   []string
	idSet map[string]uint32
	// topTerm is each document's heaviest term (its term index), the key
	// for reordering.
	topTerm []uint32
	graph   bpGraph // heaviest terms per document, for reordering
	heavy   []termWeight

	termIdx   map[string]uint32
	terms     []string
	lists     [][]rawPosting
	stamp     []uint32
	attempt   uint32
	bufBytes  int64
	runs      []string
	maxWeight float32
	postings  int64
	done      bool
	passages  *passageBuilder // nil until AddPassage
}

// NewBuilder starts a new index generation in dir (created if needed).
// The index already in dir, if any, keeps opening until Finish commits.
func NewBuilder(dir string, opt BuildOptions) (*Builder, error) {
	if opt.Quantize > QuantF32 {
		return nil, fmt.Errorf("invalid quantization %d", opt.Quantize)
	}
	switch {
	case opt.ImpactLevels == 0:
		if opt.Quantize == QuantU8 {
			opt.ImpactLevels = MaxImpactLevels
		}
	case opt.Quantize != QuantU8:
		return nil, fmt.Errorf("impact levels apply to u8 quantization only, not %v", opt.Quantize)
	case opt.ImpactLevels < 1 || opt.ImpactLevels > MaxImpactLevels:
		return nil, fmt.Errorf("impact levels %d: want 1 to %d", opt.ImpactLevels, MaxImpactLevels)
	}
	if opt.MemoryBudget <= 0 {
		opt.MemoryBudget = DefaultMemoryBudget
	}
	if opt.RangeSize <= 0 {
		opt.RangeSize = DefaultRangeSize
	}
	if !validRangeSize(opt.RangeSize) {
		return nil, fmt.Errorf("range size %d: want a power of two from %d to %d", opt.RangeSize, MinRangeSize, MaxRangeSize)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	next := 1
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if n, ok := genNumber(e.Name()); ok && n >= next {
			next = n + 1
		}
	}
	gen := fmt.Sprintf("gen-%06d", next)
	genDir := filepath.Join(dir, gen)
	if err := os.Mkdir(genDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating index generation: %w", err)
	}
	return &Builder{
		dir: dir, gen: gen, genDir: genDir, runDir: filepath.Join(genDir, "runs"),
		opt: opt, start: time.Now(),
		idSet: make(map[string]uint32), termIdx: make(map[string]uint32),
	}, nil
}

func genNumber(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "gen-")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}

// Add appends a document. It is an error to repeat an id, to give an empty
// id, a repeated term, or a negative or non-finite weight. Zero weights are
// not postings (they add nothing to any score) and are skipped.
func (b *Builder) Add(id string, v sparse.Vector) error {
	if b.done {
		return errors.New("index builder already finished")
	}
	if id == "" {
		return errors.New("empty document id")
	}
	if first, dup := b.idSet[id]; dup {
		return fmt.Errorf("duplicate document id %q (first added as document %d)", id, first+1)
	}
	if len(v.Terms) != len(v.Weights) {
		return fmt.Errorf("document %q: %d terms but %d weights", id, len(v.Terms), len(v.Weights))
	}
	if len(b.ids) == math.MaxUint32-1 {
		return errors.New("too many documents for 32-bit document ids")
	}
	b.attempt++
	if b.attempt == 0 { // wrapped: reset stamps
		clear(b.stamp)
		b.attempt = 1
	}
	n := 0
	top, topW := uint32(math.MaxUint32), float32(-1)
	for i, t := range v.Terms {
		w := v.Weights[i]
		if w < 0 || math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
			return fmt.Errorf("document %q: term %q has weight %v (weights must be finite and >= 0)", id, t, w)
		}
		if b.opt.Quantize == QuantF16 && w > maxF16 {
			return fmt.Errorf("document %q: term %q weight %v exceeds the half-precision range (use --quantize u8 or f32)", id, t, w)
		}
		ti, ok := b.termIdx[t]
		if !ok {
			ti = uint32(len(b.terms))
			b.termIdx[t] = ti
			b.terms = append(b.terms, t)
			b.lists = append(b.lists, nil)
			b.stamp = append(b.stamp, 0)
		}
		if b.stamp[ti] == b.attempt {
			return fmt.Errorf("document %q: term %q appears twice", id, t)
		}
		b.stamp[ti] = b.attempt
		if w > 0 {
			n++
			if w > topW || (w == topW && ti < top) {
				top, topW = ti, w
			}
		}
	}
	doc := uint32(len(b.ids))
	for i, t := range v.Terms {
		w := v.Weights[i]
		if w == 0 {
			continue
		}
		ti := b.termIdx[t]
		b.lists[ti] = append(b.lists[ti], rawPosting{doc, w})
		if w > b.maxWeight {
			b.maxWeight = w
		}
	}
	if b.opt.Reorder {
		b.addToGraph(v)
	}
	b.ids = append(b.ids, id)
	b.idSet[id] = doc
	b.topTerm = append(b.topTerm, top)
	b.postings += int64(n)
	b.bufBytes += int64(n) * 8
	if b.bufBytes >= b.opt.MemoryBudget {
		return b.spill()
	}
	return nil
}

// spill writes the buffered postings, terms in string order, as a run.
func (b *Builder) spill() error {
	if err := os.MkdirAll(b.runDir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(b.runDir, fmt.Sprintf("run-%04d", len(b.runs)))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var buf [8]byte
	for _, ti := range b.sortedTerms() {
		l := b.lists[ti]
		if len(l) == 0 {
			continue
		}
		t := b.terms[ti]
		binary.LittleEndian.PutUint32(buf[:], uint32(len(t)))
		w.Write(buf[:4])
		w.WriteString(t)
		binary.LittleEndian.PutUint32(buf[:], uint32(len(l)))
		w.Write(buf[:4])
		for _, p := range l {
			binary.LittleEndian.PutUint32(buf[:], p.doc)
			binary.LittleEndian.PutUint32(buf[4:], math.Float32bits(p.w))
			w.Write(buf[:])
		}
		b.lists[ti] = l[:0]
	}
	binary.LittleEndian.PutUint32(buf[:], math.MaxUint32)
	w.Write(buf[:4])
	err = w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("spilling run %s: %w", path, err)
	}
	b.runs = append(b.runs, path)
	b.bufBytes = 0
	return nil
}

func (b *Builder) sortedTerms() []uint32 {
	order := make([]uint32, len(b.terms))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(x, y uint32) int { return strings.Compare(b.terms[x], b.terms[y]) })
	return order
}

// Abort discards the generation being built.
func (b *Builder) Abort() error {
	b.done = true
	return os.RemoveAll(b.genDir)
}

// termSource yields (term, postings) in increasing term order.
type termSource interface {
	next() (term string, ps []rawPosting, ok bool, err error)
}

type memSource struct {
	b     *Builder
	order []uint32
	i     int
}

func (m *memSource) next() (string, []rawPosting, bool, error) {
	for m.i < len(m.order) {
		ti := m.order[m.i]
		m.i++
		if len(m.b.lists[ti]) > 0 {
			return m.b.terms[ti], m.b.lists[ti], true, nil
		}
	}
	return "", nil, false, nil
}

type runSource struct {
	path string
	f    *os.File
	r    *bufio.Reader
	buf  []rawPosting
}

func (s *runSource) next() (string, []rawPosting, bool, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(s.r, hdr[:4]); err != nil {
		return "", nil, false, fmt.Errorf("reading run %s: %w", s.path, err)
	}
	n := binary.LittleEndian.Uint32(hdr[:4])
	if n == math.MaxUint32 {
		return "", nil, false, nil
	}
	tb := make([]byte, n)
	if _, err := io.ReadFull(s.r, tb); err != nil {
		return "", nil, false, fmt.Errorf("reading run %s: %w", s.path, err)
	}
	if _, err := io.ReadFull(s.r, hdr[:4]); err != nil {
		return "", nil, false, fmt.Errorf("reading run %s: %w", s.path, err)
	}
	cnt := int(binary.LittleEndian.Uint32(hdr[:4]))
	s.buf = slices.Grow(s.buf[:0], cnt)[:cnt]
	for i := range s.buf {
		if _, err := io.ReadFull(s.r, hdr[:]); err != nil {
			return "", nil, false, fmt.Errorf("reading run %s: %w", s.path, err)
		}
		s.buf[i] = rawPosting{binary.LittleEndian.Uint32(hdr[:4]), math.Float32frombits(binary.LittleEndian.Uint32(hdr[4:]))}
	}
	return string(tb), s.buf, true, nil
}

// Finish merges the runs, writes every file of the generation, fsyncs them,
// then atomically points dir/CURRENT at it and removes older generations.
func (b *Builder) Finish() (Stats, error) {
	if b.done {
		return Stats{}, errors.New("index builder already finished")
	}
	b.done = true
	st, err := b.finish()
	if err != nil {
		os.RemoveAll(b.genDir)
		return Stats{}, err
	}
	return st, nil
}

func (b *Builder) finish() (Stats, error) {
	nDocs := len(b.ids)
	if nDocs == 0 {
		return Stats{}, errors.New("no documents to index")
	}
	// Sources in document order: spilled runs, then what is in memory.
	var sources []termSource
	for _, p := range b.runs {
		f, err := os.Open(p)
		if err != nil {
			return Stats{}, err
		}
		defer f.Close()
		sources = append(sources, &runSource{path: p, f: f, r: bufio.NewReaderSize(f, 1<<20)})
	}
	sources = append(sources, &memSource{b: b, order: b.sortedTerms()})

	// Document order: identity, or the reordering permutation.
	var perm []uint32 // perm[old] = new
	if b.opt.Reorder {
		perm = reorder(&b.graph, b.topTerm, len(b.terms))
	}
	b.topTerm, b.graph = nil, bpGraph{}

	q := b.opt.Quantize
	scale := 1.0
	var top uint8 // the largest u8 level
	if q == QuantU8 {
		top = uint8(b.opt.ImpactLevels)
		scale = float64(b.maxWeight) / float64(top)
		if scale == 0 {
			scale = 1
		}
	}
	maxImpact := float64(b.maxWeight)
	switch q {
	case QuantU8:
		maxImpact = float64(top)
	case QuantF16:
		maxImpact = float64(f16ToF32(f32ToF16(b.maxWeight)))
	}
	rangeSize := b.opt.RangeSize
	nRanges := (nDocs + rangeSize - 1) / rangeSize
	rangeScale := 1.0
	if q != QuantU8 {
		rangeScale = maxImpact / 255 * (1 + 1e-6)
		if rangeScale == 0 {
			rangeScale = 1
		}
	}

	post, err := createFile(b.genDir, filePostings)
	if err != nil {
		return Stats{}, err
	}
	defer post.Close()
	blks, err := createFile(b.genDir, fileBlocks)
	if err != nil {
		return Stats{}, err
	}
	defer blks.Close()

	var (
		termStrs []string
		records  []termRecord
		nBlocks  int64
		merged   []rawPosting
		docs     []uint32
		raws     []uint32
		hist     [256]int
		vals     []float32
		st       Stats
	)
	enc := termEncoder{q: q, rangeSize: rangeSize, lg: bits.TrailingZeros(uint(rangeSize)), nRanges: nRanges, rangeScale: rangeScale}
	heads := make([]struct {
		term string
		ps   []rawPosting
		ok   bool
	}, len(sources))
	for i, s := range sources {
		t, ps, ok, err := s.next()
		if err != nil {
			return Stats{}, err
		}
		heads[i].term, heads[i].ps, heads[i].ok = t, ps, ok
	}
	for {
		// smallest head term; concatenate its postings in source order
		min := -1
		for i := range heads {
			if heads[i].ok && (min < 0 || heads[i].term < heads[min].term) {
				min = i
			}
		}
		if min < 0 {
			break
		}
		term := heads[min].term
		merged = merged[:0]
		for i := range heads {
			if heads[i].ok && heads[i].term == term {
				merged = append(merged, heads[i].ps...)
				t, ps, ok, err := sources[i].next()
				if err != nil {
					return Stats{}, err
				}
				heads[i].term, heads[i].ps, heads[i].ok = t, ps, ok
			}
		}
		if perm != nil {
			for i := range merged {
				merged[i].doc = perm[merged[i].doc]
			}
			slices.SortFunc(merged, func(x, y rawPosting) int { return cmp.Compare(x.doc, y.doc) })
		}
		termStrs = append(termStrs, term)

		docs, raws = docs[:0], raws[:0]
		var maxV float32
		for _, p := range merged {
			raw := rawImpact(q, p.w, scale, top)
			docs = append(docs, p.doc)
			raws = append(raws, raw)
			maxV = max(maxV, impactValue(q, raw))
		}
		rec := termRecord{df: uint32(len(merged)), dataOff: post.n, dirOff: uint64(nBlocks), maxImpact: maxV}
		rec.kth = kthImpacts(q, raws, &hist, &vals)
		et := enc.encode(docs, raws)
		rec.pairs, rec.blocks = uint32(et.pairs), uint32(len(et.dir)/2)
		rec.layout, rec.blockLog = et.layout, et.blockLog
		if _, err := post.Write(et.data); err != nil {
			return Stats{}, err
		}
		for _, v := range et.dir {
			if err := blks.u32(v); err != nil {
				return Stats{}, err
			}
		}
		if post.n-rec.dataOff > math.MaxUint32 {
			return Stats{}, fmt.Errorf("term %q: posting list larger than 4 GiB", term)
		}
		nBlocks += int64(rec.blocks)
		st.Sizes.add(et.sizes)
		st.Pairs += int64(et.pairs)
		if et.layout == layoutDense {
			st.DenseTerms++
		}
		records = append(records, rec)
	}
	b.lists = nil
	for _, f := range []*fileWriter{post, blks} {
		if err := f.Close(); err != nil {
			return Stats{}, err
		}
	}
	if err := writeTerms(b.genDir, termStrs, records); err != nil {
		return Stats{}, err
	}
	if err := writeDocIDs(b.genDir, b.ids, perm); err != nil {
		return Stats{}, err
	}
	if err := b.writePassages(perm); err != nil {
		return Stats{}, err
	}
	meta := Meta{
		FormatVersion: FormatVersion, Docs: nDocs, Terms: len(termStrs), Postings: b.postings, Blocks: nBlocks,
		Quantization: q.String(), Scale: scale, RangeSize: rangeSize, Ranges: nRanges,
		RangeScale: rangeScale, MaxWeight: float64(b.maxWeight), Fingerprint: b.opt.Fingerprint,
		Reordered: perm != nil, Created: time.Now().UTC().Format(time.RFC3339), Documents: b.numDocuments(),
		ImpactLevels: b.opt.ImpactLevels,
	}
	mj, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return Stats{}, err
	}
	mf, err := createFile(b.genDir, fileMeta)
	if err != nil {
		return Stats{}, err
	}
	mf.Write(append(mj, '\n'))
	if err := mf.Close(); err != nil {
		return Stats{}, err
	}
	os.RemoveAll(b.runDir)
	if err := syncDir(b.genDir); err != nil {
		return Stats{}, err
	}
	if err := writeCurrent(b.dir, b.gen); err != nil {
		return Stats{}, err
	}
	b.removeOldGenerations()

	st.Docs, st.Terms, st.Postings, st.Runs = nDocs, len(termStrs), b.postings, len(b.runs)
	st.Documents = meta.Documents
	st.Dir, st.Quantization, st.Fingerprint, st.MaxWeight = b.genDir, q, b.opt.Fingerprint, float64(b.maxWeight)
	st.ImpactLevels = b.opt.ImpactLevels
	sizes := map[string]int64{}
	for name := range fileKinds {
		if fi, err := os.Stat(filepath.Join(b.genDir, name)); err == nil {
			sizes[name] = fi.Size()
			st.TotalBytes += fi.Size()
		}
	}
	st.PostingBytes = sizes[filePostings] + sizes[fileBlocks] - 2*headerSize
	if st.Postings > 0 {
		st.BitsPerPost = 8 * float64(st.PostingBytes) / float64(st.Postings)
		st.TotalBitsPerPost = 8 * float64(st.TotalBytes) / float64(st.Postings)
	}
	st.BuildTime = time.Since(b.start)
	return st, nil
}

func ceilRange(v float32, rangeScale float64) uint8 {
	r := math.Ceil(float64(v) / rangeScale)
	for r < 255 && r*rangeScale < float64(v) {
		r++
	}
	if r < 1 {
		r = 1
	}
	if r > 255 {
		r = 255
	}
	return uint8(r)
}

// removeOldGenerations deletes generation directories other than the one
// just committed (older indexes and leftovers of interrupted builds).
// Processes that still have an old generation mapped keep reading it.
func (b *Builder) removeOldGenerations() {
	entries, err := os.ReadDir(b.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if _, ok := genNumber(e.Name()); ok && e.Name() != b.gen {
			os.RemoveAll(filepath.Join(b.dir, e.Name()))
		}
	}
}

// Build writes an index of the records held in memory, the form tests,
// examples and small collections have; an invalid record is an error
// naming its position and id, and nothing is left half-written. Records
// with a Doc are passages of that document (see AddPassage).
func Build(dir string, recs []sparse.Record, opt BuildOptions) (Stats, error) {
	b, err := NewBuilder(dir, opt)
	if err != nil {
		return Stats{}, err
	}
	for i, r := range recs {
		if err := b.AddRecord(r); err != nil {
			b.Abort()
			return Stats{}, fmt.Errorf("record %d (%q): %w", i, r.ID, err)
		}
	}
	return b.Finish()
}

// BuildFromFile indexes a vector JSONL file (gzip ok); records with a
// "doc" are passages of that document (see AddPassage). Errors name the
// file and line. progress, when not nil, is called with the documents added.
func BuildFromFile(path, dir string, opt BuildOptions, progress func(docs int)) (Stats, error) {
	r, err := sparse.Open(path)
	if err != nil {
		return Stats{}, err
	}
	defer r.Close()
	b, err := NewBuilder(dir, opt)
	if err != nil {
		return Stats{}, err
	}
	// Lines are parsed on other cores while the builder adds the records
	// before them: JSON decoding is about a quarter of a build's time from
	// a file.
	n := 0
	err = r.Each(runtime.GOMAXPROCS(0), func(rec sparse.Record, line int) error {
		if err := b.AddRecord(rec); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		n++
		if progress != nil && n%1024 == 0 {
			progress(n)
		}
		return nil
	})
	if err != nil {
		b.Abort()
		return Stats{}, err
	}
	if progress != nil {
		progress(n)
	}
	if n == 0 {
		b.Abort()
		return Stats{}, fmt.Errorf("%s: no documents", path)
	}
	return b.Finish()
}

// termRecord is one fixed-size entry of terms.bin (64 bytes, see
// docs/index-format.md).
type termRecord struct {
	df, pairs, blocks uint32
	layout, blockLog  uint8
	dataOff, dirOff   uint64
	maxImpact         float32
	kth               [3]float32
}

func (r *termRecord) put(b []byte) {
	clear(b[:termRecordSize])
	binary.LittleEndian.PutUint32(b[0:], r.df)
	binary.LittleEndian.PutUint32(b[4:], r.pairs)
	binary.LittleEndian.PutUint32(b[8:], r.blocks)
	b[12], b[14] = r.layout, r.blockLog
	binary.LittleEndian.PutUint64(b[16:], r.dataOff)
	binary.LittleEndian.PutUint64(b[24:], r.dirOff)
	binary.LittleEndian.PutUint32(b[32:], math.Float32bits(r.maxImpact))
	for i, v := range r.kth {
		binary.LittleEndian.PutUint32(b[36+4*i:], math.Float32bits(v))
	}
}

// writeTerms writes terms.bin: count, records, string offsets, strings.
func writeTerms(dir string, terms []string, recs []termRecord) error {
	f, err := createFile(dir, fileTerms)
	if err != nil {
		return err
	}
	defer f.Close()
	f.u64(uint64(len(terms)))
	buf := make([]byte, termRecordSize)
	for i := range recs {
		recs[i].put(buf)
		f.Write(buf)
	}
	var off uint64
	f.u64(0)
	for _, t := range terms {
		off += uint64(len(t))
		f.u64(off)
	}
	for _, t := range terms {
		io.WriteString(f, t)
	}
	return f.Close()
}

// writeDocIDs writes docids.bin: count, offsets, id bytes, in internal
// (possibly reordered) document order.
func writeDocIDs(dir string, ids []string, perm []uint32) error {
	if perm != nil {
		ordered := make([]string, len(ids))
		for old, nw := range perm {
			ordered[nw] = ids[old]
		}
		ids = ordered
	}
	f, err := createFile(dir, fileDocs)
	if err != nil {
		return err
	}
	defer f.Close()
	f.u64(uint64(len(ids)))
	var off uint64
	f.u64(0)
	for _, id := range ids {
		off += uint64(len(id))
		f.u64(off)
	}
	for _, id := range ids {
		io.WriteString(f, id)
	}
	return f.Close()
}

// impactValue is a stored impact as a number: the u8 level, or the float
// weight.
func impactValue(q Quantization, raw uint32) float32 {
	switch q {
	case QuantU8:
		return float32(raw)
	case QuantF16:
		return f16ToF32(uint16(raw))
	}
	return math.Float32frombits(raw)
}

// rawImpact is the stored form of weight w: u8 level (at most top), f16
// or f32 bits.
func rawImpact(q Quantization, w float32, scale float64, top uint8) uint32 {
	switch q {
	case QuantU8:
		return uint32(quantizeU8(w, scale, top))
	case QuantF16:
		return uint32(f32ToF16(w))
	}
	return math.Float32bits(w)
}

type termWeight struct {
	t uint32
	w float32
}

// addToGraph records the document's bpTerms heaviest terms.
func (b *Builder) addToGraph(v sparse.Vector) {
	b.heavy = b.heavy[:0]
	for i, t := range v.Terms {
		if v.Weights[i] > 0 {
			b.heavy = append(b.heavy, termWeight{b.termIdx[t], v.Weights[i]})
		}
	}
	if len(b.heavy) > bpTerms {
		slices.SortFunc(b.heavy, func(x, y termWeight) int {
			if c := cmp.Compare(y.w, x.w); c != 0 {
				return c
			}
			return cmp.Compare(x.t, y.t)
		})
		b.heavy = b.heavy[:bpTerms]
	}
	ts := make([]uint32, len(b.heavy))
	for i, h := range b.heavy {
		ts[i] = h.t
	}
	b.graph.add(ts)
}

// kthImpacts returns the impacts of rank 10, 100 and 1000 among raws (0
// where there are fewer).
func kthImpacts(q Quantization, raws []uint32, hist *[256]int, vals *[]float32) [3]float32 {
	var out [3]float32
	if q == QuantU8 {
		clear(hist[:])
		for _, r := range raws {
			hist[r]++
		}
		for i, k := range kthRanks {
			n := 0
			for l := 255; l > 0; l-- {
				n += hist[l]
				if n >= k {
					out[i] = float32(l)
					break
				}
			}
		}
		return out
	}
	if len(raws) < kthRanks[0] {
		return out
	}
	v := (*vals)[:0]
	for _, r := range raws {
		v = append(v, impactValue(q, r))
	}
	slices.SortFunc(v, func(a, b float32) int { return cmp.Compare(b, a) })
	for i, k := range kthRanks {
		if k <= len(v) {
			out[i] = v[k-1]
		}
	}
	*vals = v
	return out
}
