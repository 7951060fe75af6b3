// Package index stores SPLADE document vectors as an inverted index built
// for fast top-k retrieval, and reads it back through mmap.
//
// Learned sparse vectors (SPLADE, Formal et al. SIGIR 2021) differ from
// BM25 term frequencies: documents carry ~100-200 expanded terms with
// real-valued impacts, so postings are long and impacts need as many bits
// as doc-id gaps. The index therefore quantizes impacts (8 bits with one
// global scale by default) and bit-packs both gaps and impacts per block of
// 128 postings, with a per-block bit width and a per-block maximum impact
// for dynamic pruning. For Block-Max Pruning (Mallia et al., SIGIR 2024) it
// also keeps, per term, the maximum impact in each range of 16 consecutive
// documents, and a forward index grouped by range (range -> term ->
// documents) to score a range's documents for the query terms only.
// Documents can be renumbered by recursive graph bisection, which shrinks
// gaps and tightens the range bounds.
//
// An index directory holds generations (gen-NNNNNN/) and a CURRENT file
// naming the complete one. A build writes a new generation, fsyncs it, then
// atomically replaces CURRENT, so a crash never leaves an index that opens
// half-written, and the previous index keeps opening until the new one is
// complete. Every file has a versioned header and a CRC-32C checksum that
// Open verifies. docs/index-format.md documents every byte.
//
// Documents longer than an encoder's input are indexed as passages
// (AddPassage; see passages.go): each passage is an entry of the index, and
// a passage -> document map lets package search return documents scored by
// their best passage.
package index

import (
	"encoding/binary"
	"encoding/json"

	"fmt"
	"math"
	"path/filepath"
	"sync/atomic"
)

// End is the document id of an exhausted cursor.
const End = math.MaxUint32

// Index is an opened, read-only index. It is safe for concurrent use.
type Index struct {
	Meta Meta
	dir  string
	q    Quantization

	files []*mappedFile

	termRecs []byte
	strOffs  []byte
	strs     []byte
	termMap  map[string]uint32

	postings []byte
	blocks   []byte
	ranges   []byte

	rfwd, rfwdOff   []byte
	docOff, docStrs []byte

	passages *passageMap // nil on a document index
}

// Open opens the current generation of the index in dir, verifying every
// file's header, checksum and internal consistency.
func Open(dir string) (*Index, error) {
	gen, err := readCurrent(dir)
	if err != nil {
		return nil, err
	}
	return openGeneration(filepath.Join(dir, gen))
}

func openGeneration(gdir string) (ix *Index, err error) {
	ix = &Index{dir: gdir}
	defer func() {
		if err != nil {
			ix.Close()
			ix = nil
		}
	}()
	err = ix.parse(func(name string) ([]byte, error) {
		m, err := openMapped(gdir, name)
		if err != nil {
			return nil, err
		}
		ix.files = append(ix.files, m)
		return m.payload, nil
	})
	return ix, err
}

// parse validates the payloads returned by load (already checked against
// their headers) and sets up the index over them.
func (ix *Index) parse(load func(name string) ([]byte, error)) (err error) {
	gdir := ix.dir
	bad := func(name, format string, args ...any) error {
		return fmt.Errorf("%s: corrupted index: %s", filepath.Join(gdir, name), fmt.Sprintf(format, args...))
	}
	mb, err := load(fileMeta)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(mb, &ix.Meta); err != nil {
		return bad(fileMeta, "%v", err)
	}
	m := &ix.Meta
	if ix.q, err = ParseQuantization(m.Quantization); err != nil {
		return bad(fileMeta, "%v", err)
	}
	if m.Docs <= 0 || m.Docs >= End || m.Terms < 0 || m.BlockSize != BlockSize || m.RangeSize <= 0 ||
		m.Ranges != (m.Docs+m.RangeSize-1)/m.RangeSize || !(m.Scale > 0) || !(m.RangeScale > 0) || m.Postings < 0 {
		return bad(fileMeta, "inconsistent counts")
	}

	// terms.bin
	tb, err := load(fileTerms)
	if err != nil {
		return err
	}
	if len(tb) < 8 || binary.LittleEndian.Uint64(tb) != uint64(m.Terms) {
		return bad(fileTerms, "term count does not match meta.json")
	}
	nt := m.Terms
	recEnd := 8 + termRecordSize*nt
	offEnd := recEnd + 8*(nt+1)
	if offEnd > len(tb) || offEnd < 0 {
		return bad(fileTerms, "truncated")
	}
	ix.termRecs, ix.strOffs, ix.strs = tb[8:recEnd], tb[recEnd:offEnd], tb[offEnd:]
	if binary.LittleEndian.Uint64(ix.strOffs[8*nt:]) != uint64(len(ix.strs)) || binary.LittleEndian.Uint64(ix.strOffs) != 0 {
		return bad(fileTerms, "string table size mismatch")
	}
	ix.termMap = make(map[string]uint32, nt)
	prevOff := uint64(0)
	for i := 0; i < nt; i++ {
		o := binary.LittleEndian.Uint64(ix.strOffs[8*(i+1):])
		if o < prevOff || o > uint64(len(ix.strs)) {
			return bad(fileTerms, "string offsets out of order at term %d", i)
		}
		s := string(ix.strs[prevOff:o])
		prevOff = o
		if i > 0 && s <= ix.Term(uint32(i-1)) {
			return bad(fileTerms, "terms not sorted at term %d", i)
		}
		ix.termMap[s] = uint32(i)
	}

	if ix.postings, err = load(filePostings); err != nil {
		return err
	}
	if ix.blocks, err = load(fileBlocks); err != nil {
		return err
	}
	if ix.ranges, err = load(fileRanges); err != nil {
		return err
	}
	if len(ix.blocks) != 12*int(m.Blocks) {
		return bad(fileBlocks, "%d bytes for %d blocks", len(ix.blocks), m.Blocks)
	}
	var nextBlock, sumDF uint64
	var prevPost uint64
	for t := 0; t < nt; t++ {
		r := ix.rec(uint32(t))
		if r.df == 0 || int(r.df) > m.Docs || uint64(r.nBlocks) != (uint64(r.df)+BlockSize-1)/BlockSize ||
			r.blocksOff != nextBlock || r.postingsOff != prevPost || r.postingsOff > uint64(len(ix.postings)) ||
			!(r.maxImpact > 0) || math.IsInf(float64(r.maxImpact), 0) {
			return bad(fileTerms, "invalid record for term %d", t)
		}
		end := ix.postEnd(uint32(t))
		if end < r.postingsOff {
			return bad(fileTerms, "posting offsets out of order at term %d", t)
		}
		nextBlock += uint64(r.nBlocks)
		sumDF += uint64(r.df)
		if nextBlock > uint64(m.Blocks) {
			return bad(fileBlocks, "term %d has blocks beyond the directory", t)
		}
		prevLast, prevRel := int64(-1), uint32(0)
		for b := uint64(0); b < uint64(r.nBlocks); b++ {
			e := ix.blocks[12*(r.blocksOff+b):]
			last, rel := binary.LittleEndian.Uint32(e), binary.LittleEndian.Uint32(e[4:])
			bm := math.Float32frombits(binary.LittleEndian.Uint32(e[8:]))
			if int64(last) <= prevLast || int(last) >= m.Docs || (b == 0 && rel != 0) || (b > 0 && rel <= prevRel) ||
				uint64(rel) >= end-r.postingsOff || !(bm > 0) || bm > r.maxImpact {
				return bad(fileBlocks, "invalid block %d of term %d", b, t)
			}
			prevLast, prevRel = int64(last), rel
		}
		var rsize uint64
		if r.dense == 1 {
			rsize = uint64(m.Ranges)
		} else if r.dense == 0 {
			rsize = 5 * uint64(r.rangeN)
		} else {
			return bad(fileTerms, "invalid range list kind for term %d", t)
		}
		if r.rangesOff > uint64(len(ix.ranges)) || rsize > uint64(len(ix.ranges))-r.rangesOff || int(r.rangeN) > m.Ranges {
			return bad(fileRanges, "range list of term %d out of bounds", t)
		}
		if r.dense == 0 {
			rl := ix.RangeList(uint32(t))
			prev := int64(-1)
			for i := 0; i < int(r.rangeN); i++ {
				id := int64(binary.LittleEndian.Uint32(rl.IDs[4*i:]))
				if id <= prev || id >= int64(m.Ranges) {
					return bad(fileRanges, "invalid range id in term %d", t)
				}
				prev = id
			}
		}
		prevPost = end
	}
	if nextBlock != uint64(m.Blocks) || sumDF != uint64(m.Postings) || prevPost != uint64(len(ix.postings)) {
		return bad(fileTerms, "postings totals do not match meta.json")
	}

	// rangefwd.bin: range records, then offsets[ranges+1], then ranges
	fb, err := load(fileForward)
	if err != nil {
		return err
	}
	nr := m.Ranges
	w := ix.q.width()
	tail := 8 + 8*(nr+1)
	if len(fb) < tail || binary.LittleEndian.Uint64(fb[len(fb)-8:]) != uint64(nr) {
		return bad(fileForward, "range count does not match meta.json")
	}
	ix.rfwd, ix.rfwdOff = fb[:len(fb)-tail], fb[len(fb)-tail:len(fb)-8]
	var totalPost uint64
	for r := 0; r < nr; r++ {
		lo, hi := binary.LittleEndian.Uint64(ix.rfwdOff[8*r:]), binary.LittleEndian.Uint64(ix.rfwdOff[8*(r+1):])
		if hi < lo || hi > uint64(len(ix.rfwd)) || (r == 0 && lo != 0) || hi-lo < 8 {
			return bad(fileForward, "invalid offset of range %d", r)
		}
		rec := ix.rfwd[lo:hi]
		np, npost := uint64(binary.LittleEndian.Uint32(rec)), uint64(binary.LittleEndian.Uint32(rec[4:]))
		if 8+8*np+uint64(1+w)*npost != uint64(len(rec)) {
			return bad(fileForward, "size of range %d", r)
		}
		rlen := min(m.RangeSize, m.Docs-r*m.RangeSize)
		prevT, prevEnd := int64(-1), uint64(0)
		for i := uint64(0); i < np; i++ {
			t := int64(binary.LittleEndian.Uint32(rec[8+4*i:]))
			end := uint64(binary.LittleEndian.Uint32(rec[8+4*np+4*i:]))
			if t <= prevT || t >= int64(nt) || end <= prevEnd || end > npost {
				return bad(fileForward, "invalid term list of range %d", r)
			}
			prevT, prevEnd = t, end
		}
		if prevEnd != npost {
			return bad(fileForward, "postings of range %d", r)
		}
		for _, l := range rec[8+8*np : 8+8*np+npost] {
			if int(l) >= rlen {
				return bad(fileForward, "document out of range %d", r)
			}
		}
		totalPost += npost
	}
	if binary.LittleEndian.Uint64(ix.rfwdOff[8*nr:]) != uint64(len(ix.rfwd)) || totalPost != uint64(m.Postings) {
		return bad(fileForward, "postings total does not match meta.json")
	}

	nd := m.Docs
	prev := uint64(0)
	// docids.bin
	db, err := load(fileDocs)
	if err != nil {
		return err
	}
	if len(db) < 8+8*(nd+1) || binary.LittleEndian.Uint64(db) != uint64(nd) {
		return bad(fileDocs, "document count does not match meta.json")
	}
	ix.docOff, ix.docStrs = db[8:8+8*(nd+1)], db[8+8*(nd+1):]
	prev = 0
	for d := 0; d <= nd; d++ {
		o := binary.LittleEndian.Uint64(ix.docOff[8*d:])
		if o < prev || o > uint64(len(ix.docStrs)) || (d == 0 && o != 0) || (d > 0 && o == prev) {
			return bad(fileDocs, "invalid offset of document %d", d)
		}
		prev = o
	}
	if prev != uint64(len(ix.docStrs)) {
		return bad(fileDocs, "id bytes size mismatch")
	}
	return ix.parsePassages(load)
}

// Close unmaps the files. The index must not be used afterwards.
func (ix *Index) Close() error {
	var err error
	for _, f := range ix.files {
		if e := f.close(); err == nil {
			err = e
		}
	}
	ix.files = nil
	return err
}

// Dir returns the generation directory that was opened.
func (ix *Index) Dir() string { return ix.dir }

// NumDocs returns the number of documents.
func (ix *Index) NumDocs() int { return ix.Meta.Docs }

// NumTerms returns the number of distinct terms.
func (ix *Index) NumTerms() int { return ix.Meta.Terms }

// NumRanges returns the number of block-max ranges.
func (ix *Index) NumRanges() int { return ix.Meta.Ranges }

// Quantization returns how impacts are stored.
func (ix *Index) Quantization() Quantization { return ix.q }

// Scale converts a sum of query weight x impact into the score in the
// units of the original weights (max weight / 255 for u8, else 1).
func (ix *Index) Scale() float64 { return ix.Meta.Scale }

// RangeScale converts a range list's stored maximum into impact units.
func (ix *Index) RangeScale() float64 { return ix.Meta.RangeScale }

// Lookup returns the id of a term.
func (ix *Index) Lookup(term string) (uint32, bool) {
	t, ok := ix.termMap[term]
	return t, ok
}

// Term returns the string of term id t (ids follow string order).
func (ix *Index) Term(t uint32) string {
	lo := binary.LittleEndian.Uint64(ix.strOffs[8*t:])
	hi := binary.LittleEndian.Uint64(ix.strOffs[8*(t+1):])
	return string(ix.strs[lo:hi])
}

// DocID returns the external id of internal document d.
func (ix *Index) DocID(d uint32) string {
	lo := binary.LittleEndian.Uint64(ix.docOff[8*d:])
	hi := binary.LittleEndian.Uint64(ix.docOff[8*(d+1):])
	return string(ix.docStrs[lo:hi])
}

func (ix *Index) rec(t uint32) termRecord {
	return getTermRecord(ix.termRecs[termRecordSize*int(t):])
}

func (ix *Index) postEnd(t uint32) uint64 {
	if int(t)+1 < ix.Meta.Terms {
		return ix.rec(t + 1).postingsOff
	}
	return uint64(len(ix.postings))
}

// DocFreq returns the number of documents containing term t.
func (ix *Index) DocFreq(t uint32) int { return int(ix.rec(t).df) }

// MaxImpact returns the largest impact of term t (in impact units).
func (ix *Index) MaxImpact(t uint32) float32 { return ix.rec(t).maxImpact }

// RangeList is a term's block-max data: the maximum impact (stored value x
// RangeScale) of the term in each range of RangeSize documents. Dense lists
// hold one byte per range; sparse ones the ids (u32 little-endian) of the
// ranges where the term occurs and their maxima.
type RangeList struct {
	Dense []byte
	IDs   []byte
	Max   []byte
}

// RangeList returns term t's range maxima.
func (ix *Index) RangeList(t uint32) RangeList {
	r := ix.rec(t)
	if r.dense == 1 {
		return RangeList{Dense: ix.ranges[r.rangesOff : r.rangesOff+uint64(ix.Meta.Ranges)]}
	}
	n := uint64(r.rangeN)
	return RangeList{IDs: ix.ranges[r.rangesOff : r.rangesOff+4*n], Max: ix.ranges[r.rangesOff+4*n : r.rangesOff+5*n]}
}

// RangeLen returns the number of documents of range r.
func (ix *Index) RangeLen(r uint32) int {
	return min(ix.Meta.RangeSize, ix.Meta.Docs-int(r)*ix.Meta.RangeSize)
}

// ScoreRange adds to acc[i], for each document i of range r (internal id
// r*RangeSize+i), the products float64(weights[j]) * impact of the query
// terms terms[j], which must be sorted by increasing term id. Processors
// that accumulate term-at-a-time in increasing term id perform the same
// additions in the same order, so every query processor computes
// bit-identical scores. acc must hold RangeLen(r) entries.
func (ix *Index) ScoreRange(r uint32, terms []uint32, weights []float32, acc []float64) {
	lo, hi := binary.LittleEndian.Uint64(ix.rfwdOff[8*r:]), binary.LittleEndian.Uint64(ix.rfwdOff[8*(r+1):])
	rec := ix.rfwd[lo:hi]
	np := int(binary.LittleEndian.Uint32(rec))
	npost := int(binary.LittleEndian.Uint32(rec[4:]))
	rterms := rec[8 : 8+4*np]
	ends := rec[8+4*np : 8+8*np]
	locals := rec[8+8*np : 8+8*np+npost]
	imps := rec[8+8*np+npost:]
	acc = acc[:ix.RangeLen(r)]
	// Ranges are visited in bound order, so their records are usually not
	// in cache, and the galloping searches below chain dependent loads
	// through them. Touching every cache line first with independent loads,
	// which the CPU overlaps, makes scoring a cold range about twice as
	// fast (warm ranges pay a few hundred cheap loads).
	var sink byte
	for o := 0; o < len(rec); o += 64 {
		sink |= rec[o]
	}
	if sink|rec[len(rec)-1] == 0 {
		touchSink.Add(1) // rarely taken; keeps the loads from being elided
	}
	at := 0 // search position in rterms
	for j, t := range terms {
		// lower bound of t in rterms[at:], galloping: query terms are
		// sorted too, so the answer is usually not far from at
		a, b, step := at, at, 1
		for b < np && binary.LittleEndian.Uint32(rterms[4*b:]) < t {
			a = b + 1
			b += step
			step <<= 1
		}
		b = min(b, np)
		for a < b {
			mid := int(uint(a+b) >> 1)
			if binary.LittleEndian.Uint32(rterms[4*mid:]) < t {
				a = mid + 1
			} else {
				b = mid
			}
		}
		at = a
		if at == np {
			break
		}
		if binary.LittleEndian.Uint32(rterms[4*at:]) != t {
			continue
		}
		start := 0
		if at > 0 {
			start = int(binary.LittleEndian.Uint32(ends[4*(at-1):]))
		}
		end := int(binary.LittleEndian.Uint32(ends[4*at:]))
		w := float64(weights[j])
		switch ix.q {
		case QuantU8:
			for p := start; p < end; p++ {
				acc[locals[p]] += float64(w * float64(imps[p]))
			}
		case QuantF16:
			for p := start; p < end; p++ {
				acc[locals[p]] += float64(w * float64(f16ToF32(binary.LittleEndian.Uint16(imps[2*p:]))))
			}
		default:
			for p := start; p < end; p++ {
				acc[locals[p]] += float64(w * float64(math.Float32frombits(binary.LittleEndian.Uint32(imps[4*p:]))))
			}
		}
		at++
	}
}

// touchSink keeps ScoreRange's cache-warming loads from being optimized
// away.
var touchSink atomic.Uint64

// Cursor iterates over one term's postings in increasing document id,
// decoding one block of 128 at a time and skipping blocks by their last
// document id.
type Cursor struct {
	ix       *Index
	data     []byte // the term's posting bytes
	blocks   []byte // the term's block directory entries
	df, nb   int
	bi       int
	n, i     int
	cur      uint32
	docs     [BlockSize]uint32
	imps     [BlockSize]float32
	scratch  [BlockSize]uint32
	blockTmp [BlockSize]uint32
	err      error
}

// Open positions c on the first posting of term t.
func (c *Cursor) Open(ix *Index, t uint32) {
	r := ix.rec(t)
	c.ix = ix
	c.data = ix.postings[r.postingsOff:ix.postEnd(t)]
	c.blocks = ix.blocks[12*r.blocksOff : 12*(r.blocksOff+uint64(r.nBlocks))]
	c.df, c.nb, c.err = int(r.df), int(r.nBlocks), nil
	c.load(0)
}

// Doc returns the current document, or End.
func (c *Cursor) Doc() uint32 { return c.cur }

// Impact returns the current posting's impact (in impact units).
func (c *Cursor) Impact() float32 { return c.imps[c.i] }

// Err reports corrupted block data met while decoding (the cursor then
// stops early).
func (c *Cursor) Err() error { return c.err }

// DocFreq returns the length of the posting list.
func (c *Cursor) DocFreq() int { return c.df }

// Next advances to the next posting.
func (c *Cursor) Next() {
	c.i++
	if c.i < c.n {
		c.cur = c.docs[c.i]
		return
	}
	c.load(c.bi + 1)
}

// BlockLast returns the last document of the current block (End when done).
func (c *Cursor) BlockLast() uint32 {
	if c.bi >= c.nb {
		return End
	}
	return binary.LittleEndian.Uint32(c.blocks[12*c.bi:])
}

// BlockMax returns the maximum impact of the current block.
func (c *Cursor) BlockMax() float32 {
	if c.bi >= c.nb {
		return 0
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(c.blocks[12*c.bi+8:]))
}

// NextGEQ advances to the first posting with document >= d.
func (c *Cursor) NextGEQ(d uint32) {
	if c.cur >= d {
		return
	}
	if c.BlockLast() < d {
		bi := c.bi + 1
		for bi < c.nb && binary.LittleEndian.Uint32(c.blocks[12*bi:]) < d {
			bi++
		}
		c.load(bi)
		if c.cur >= d {
			return
		}
	}
	for c.i++; c.i < c.n; c.i++ {
		if c.docs[c.i] >= d {
			c.cur = c.docs[c.i]
			return
		}
	}
	c.load(c.bi + 1)
}

func (c *Cursor) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%s: corrupted posting block: %s", filepath.Join(c.ix.dir, filePostings), fmt.Sprintf(format, args...))
	}
	c.bi, c.cur, c.n, c.i = c.nb, End, 0, 0
}

// load decodes block bi (or ends the cursor).
func (c *Cursor) load(bi int) {
	c.bi, c.i = bi, 0
	if bi >= c.nb {
		c.cur, c.n = End, 0
		return
	}
	n := min(BlockSize, c.df-bi*BlockSize)
	c.n = n
	start := binary.LittleEndian.Uint32(c.blocks[12*bi+4:])
	end := uint32(len(c.data))
	if bi+1 < c.nb {
		end = binary.LittleEndian.Uint32(c.blocks[12*(bi+1)+4:])
	}
	b := c.data[start:end]
	prev := int64(-1)
	if bi > 0 {
		prev = int64(binary.LittleEndian.Uint32(c.blocks[12*(bi-1):]))
	}
	if len(b) < 1 {
		c.fail("empty block")
		return
	}
	q := c.ix.q
	base := uint32(0)
	if q == QuantU8 {
		base = uint32(b[0])
		b = b[1:]
	}
	used := decodePFor(c.docs[:n], b, c.scratch[:n])
	if used < 0 {
		c.fail("malformed gaps")
		return
	}
	b = b[used:]
	d := prev
	for i := 0; i < n; i++ {
		d += int64(c.docs[i]) + 1
		c.docs[i] = uint32(d)
	}
	if d >= int64(c.ix.Meta.Docs) || uint32(d) != binary.LittleEndian.Uint32(c.blocks[12*bi:]) {
		c.fail("block does not end at its directory's last document")
		return
	}
	switch q {
	case QuantU8:
		imps := c.blockTmp[:n]
		if decodePFor(imps, b, c.scratch[:n]) < 0 {
			c.fail("malformed impacts")
			return
		}
		for i := 0; i < n; i++ {
			c.imps[i] = float32(imps[i] + base)
		}
	case QuantF16:
		if len(b) < 2*n {
			c.fail("short impacts")
			return
		}
		for i := 0; i < n; i++ {
			c.imps[i] = f16ToF32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	default:
		if len(b) < 4*n {
			c.fail("short impacts")
			return
		}
		for i := 0; i < n; i++ {
			c.imps[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	}
	c.cur = c.docs[0]
}
