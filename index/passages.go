package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/splade-go/splade/sparse"
)

// Passage indexes. Long documents exceed an encoder's 256 or 512 tokens, so
// they are encoded as several passages (splade encode --chunk) and a
// document is scored by its best passage, MaxP (Dai and Callan, SIGIR
// 2019). The postings, ranges and forward index are those of passages, as
// if each were a document of its own; this file adds the passage ->
// document map that package search applies to its results. It lives in its
// own file of the generation, passages.bin, so that the codecs do not know
// about it and a document index has no such file.

// filePassages holds the passage -> document map of a passage index.
const filePassages = "passages.bin"

func init() { fileKinds[filePassages] = "PSGS" }

// passageMap is the parsed passages.bin.
type passageMap struct {
	docOf  []byte // u32 per passage (internal id order): its document's number
	off    []byte // u64 offsets of the document ids, documents+1 entries
	strs   []byte
	nDocs  int
	starts []uint32 // passages of document d: members[starts[d]:starts[d+1]]
	member []uint32
}

// HasPassages reports whether the index holds passages of documents, so
// that searches return documents scored by their best passage.
func (ix *Index) HasPassages() bool { return ix.passages != nil }

// NumDocuments returns the number of documents: NumDocs on a document
// index; on a passage index, the documents whose passages it holds
// (NumDocs then counts passages).
func (ix *Index) NumDocuments() int {
	if ix.passages == nil {
		return ix.Meta.Docs
	}
	return ix.passages.nDocs
}

// DocumentOf returns the document number (0 <= n < NumDocuments, in order
// of first appearance in the input) of internal passage p; on a document
// index, p itself.
func (ix *Index) DocumentOf(p uint32) uint32 {
	if ix.passages == nil {
		return p
	}
	return binary.LittleEndian.Uint32(ix.passages.docOf[4*p:])
}

// DocumentID returns the external id of document number d; on a document
// index, DocID(d).
func (ix *Index) DocumentID(d uint32) string {
	pm := ix.passages
	if pm == nil {
		return ix.DocID(d)
	}
	lo := binary.LittleEndian.Uint64(pm.off[8*d:])
	hi := binary.LittleEndian.Uint64(pm.off[8*(d+1):])
	return string(pm.strs[lo:hi])
}

// Passages returns the internal ids of document number d's passages,
// ascending (the slice is shared; do not modify it); on a document index,
// d alone.
func (ix *Index) Passages(d uint32) []uint32 {
	pm := ix.passages
	if pm == nil {
		return []uint32{d}
	}
	return pm.member[pm.starts[d]:pm.starts[d+1]]
}

// parsePassages loads passages.bin when meta.json announces documents, and
// checks every entry, so that search never maps a passage out of range.
// Layout: N (passages) u64, D (documents) u64, N x u32 document numbers in
// internal passage order, (D+1) x u64 offsets (first 0, strictly
// increasing), the document ids.
func (ix *Index) parsePassages(load func(name string) ([]byte, error)) error {
	m := &ix.Meta
	if m.Documents == 0 {
		return nil
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: corrupted index: %s", filepath.Join(ix.dir, filePassages), fmt.Sprintf(format, args...))
	}
	if m.Documents < 0 || m.Documents > m.Docs {
		return bad("meta.json counts %d documents for %d passages", m.Documents, m.Docs)
	}
	b, err := load(filePassages)
	if err != nil {
		return err
	}
	n, d := m.Docs, m.Documents
	if len(b) < 16 || binary.LittleEndian.Uint64(b) != uint64(n) || binary.LittleEndian.Uint64(b[8:]) != uint64(d) {
		return bad("counts do not match meta.json")
	}
	head := 16 + 4*n + 8*(d+1)
	if len(b) < head {
		return bad("truncated")
	}
	pm := &passageMap{docOf: b[16 : 16+4*n], off: b[16+4*n : head], strs: b[head:], nDocs: d}
	prev := uint64(0)
	for i := 0; i <= d; i++ {
		o := binary.LittleEndian.Uint64(pm.off[8*i:])
		if o > uint64(len(pm.strs)) || (i == 0 && o != 0) || (i > 0 && o <= prev) {
			return bad("invalid offset of document %d", i)
		}
		prev = o
	}
	if prev != uint64(len(pm.strs)) {
		return bad("id bytes size mismatch")
	}
	// Group passages by document (counting sort); every document must
	// have one.
	pm.starts = make([]uint32, d+1)
	for p := 0; p < n; p++ {
		doc := binary.LittleEndian.Uint32(pm.docOf[4*p:])
		if int64(doc) >= int64(d) {
			return bad("passage %d maps to document %d of %d", p, doc, d)
		}
		pm.starts[doc+1]++
	}
	for i := 0; i < d; i++ {
		if pm.starts[i+1] == 0 {
			return bad("document %d has no passage", i)
		}
		pm.starts[i+1] += pm.starts[i]
	}
	pm.member = make([]uint32, n)
	next := append([]uint32(nil), pm.starts[:d]...)
	for p := 0; p < n; p++ {
		doc := binary.LittleEndian.Uint32(pm.docOf[4*p:])
		pm.member[next[doc]] = uint32(p)
		next[doc]++
	}
	ix.passages = pm
	return nil
}

// passageBuilder collects the document of each passage while a Builder
// adds them. It exists only once a passage has been added; documents added
// with Add are then passages of themselves.
type passageBuilder struct {
	docOf []uint32 // by input order; shorter than Builder.ids until synced
	num   map[string]uint32
	ids   []string
}

func (pb *passageBuilder) number(doc string) uint32 {
	d, ok := pb.num[doc]
	if !ok {
		d = uint32(len(pb.ids))
		pb.num[doc] = d
		pb.ids = append(pb.ids, doc)
	}
	return d
}

// sync maps the records added with Add since the last passage, each to the
// document of its own id.
func (pb *passageBuilder) sync(ids []string) {
	for len(pb.docOf) < len(ids) {
		pb.docOf = append(pb.docOf, pb.number(ids[len(pb.docOf)]))
	}
}

// AddPassage appends passage id of document doc. The index then scores
// documents by their best passage; ids must still be unique (they name
// passages), doc need not be (it is what groups them). A document's
// passages need not be consecutive.
func (b *Builder) AddPassage(id, doc string, v sparse.Vector) error {
	if doc == "" {
		return fmt.Errorf("passage %q: empty document id", id)
	}
	if b.passages == nil {
		b.passages = &passageBuilder{num: map[string]uint32{}}
	}
	b.passages.sync(b.ids)
	n := len(b.ids)
	err := b.Add(id, v)
	if len(b.ids) > n { // added (a spill error may still follow)
		b.passages.docOf = append(b.passages.docOf, b.passages.number(doc))
	}
	return err
}

// AddRecord adds rec as a passage of rec.Doc when that is set, else as a
// document.
func (b *Builder) AddRecord(rec sparse.Record) error {
	if rec.Doc != "" {
		return b.AddPassage(rec.ID, rec.Doc, rec.Vector)
	}
	return b.Add(rec.ID, rec.Vector)
}

// numDocuments is what meta.json records: 0 for a document index.
func (b *Builder) numDocuments() int {
	if b.passages == nil {
		return 0
	}
	b.passages.sync(b.ids)
	return len(b.passages.ids)
}

// writePassages writes passages.bin of a passage index, in internal
// (possibly reordered: perm[old] = new) passage order.
func (b *Builder) writePassages(perm []uint32) error {
	pb := b.passages
	if pb == nil {
		return nil
	}
	pb.sync(b.ids)
	if len(pb.docOf) != len(b.ids) {
		return errors.New("passage map out of step with the documents")
	}
	docOf := pb.docOf
	if perm != nil {
		docOf = make([]uint32, len(pb.docOf))
		for old, nw := range perm {
			docOf[nw] = pb.docOf[old]
		}
	}
	f, err := createFile(b.genDir, filePassages)
	if err != nil {
		return err
	}
	defer f.Close()
	f.u64(uint64(len(docOf)))
	f.u64(uint64(len(pb.ids)))
	for _, d := range docOf {
		f.u32(d)
	}
	var off uint64
	f.u64(0)
	for _, id := range pb.ids {
		off += uint64(len(id))
		f.u64(off)
	}
	for _, id := range pb.ids {
		if _, err := io.WriteString(f, id); err != nil {
			return err
		}
	}
	return f.Close()
}
