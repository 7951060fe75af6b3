package export

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/splade-go/splade/index"
)

// CIFFVersion is the Header.version written (the format's current version).
const CIFFVersion = 1

// MaxCIFFMessageBytes bounds one message read by CIFFReader, so that a
// corrupt length prefix gives an error instead of exhausting memory. One
// posting costs at most 12 bytes, so this admits lists of ~20M postings.
const MaxCIFFMessageBytes = 256 << 20

// CIFFHeader is the first message of a CIFF file.
type CIFFHeader struct {
	Version            int32
	NumPostingsLists   int32 // PostingsList messages that follow
	NumDocRecords      int32 // DocRecord messages after the postings lists
	TotalPostingsLists int32 // vocabulary size of the collection
	TotalDocs          int32
	// TotalTermsInCollection is the sum of all tf values (for an impact
	// index: the sum of all quantized impacts).
	TotalTermsInCollection int64
	AverageDocLength       float64
	Description            string
}

// CIFFPostingsList is one term's postings with absolute document ids
// (the file stores gaps; reader and writer convert).
type CIFFPostingsList struct {
	Term   string
	DF, CF int64
	Docs   []int32
	TFs    []int32
}

// CIFFDocRecord maps an internal document id to the collection's id.
type CIFFDocRecord struct {
	DocID        int32
	CollectionID string
	DocLength    int32
}

// CIFFOptions configure WriteCIFF.
type CIFFOptions struct {
	// Bits is the width of the integer impacts written for f16/f32 indexes
	// (1..16; 8 when 0). u8 indexes export their stored impacts unchanged.
	Bits int
	// Description is prepended to the generated description.
	Description string
	// Progress, when set, is called with the number of terms written.
	Progress func(terms int)
}

// CIFFStats summarize an export.
type CIFFStats struct {
	Terms, Docs int
	Postings    int64
	// Scale converts an exported integer impact back to a weight: for u8
	// indexes the index's own scale, for float indexes maxImpact/(2^Bits-1).
	Scale float64
	// Requantized is true when float impacts were mapped to integers.
	Requantized bool
}

// WriteCIFF exports ix as CIFF: the impact of each posting becomes its tf.
// Document ids are the index's internal ids (0-based, in the order of the
// DocRecords), terms come in the index's order, which is byte-wise
// lexicographic as CIFF consumers expect. A document's length is the sum
// of its integer impacts, the analogue of a token count for an impact
// index. Float (f16/f32) impacts are quantized linearly to Bits bits with
// one global scale, rounded, and never below 1 so that no posting
// vanishes; the description field records the scale.
func WriteCIFF(w io.Writer, ix *index.Index, opt CIFFOptions) (CIFFStats, error) {
	bits := opt.Bits
	if bits == 0 {
		bits = 8
	}
	if bits < 1 || bits > 16 {
		return CIFFStats{}, fmt.Errorf("ciff: impact bits must be in 1..16, got %d", bits)
	}
	nt, nd := ix.NumTerms(), ix.NumDocs()
	if nt > math.MaxInt32 || nd > math.MaxInt32 {
		return CIFFStats{}, fmt.Errorf("ciff: %d terms and %d documents exceed CIFF's int32 counts", nt, nd)
	}
	st := CIFFStats{Terms: nt, Docs: nd}
	var toTF func(float32) int32
	if ix.Quantization() == index.QuantU8 {
		st.Scale = ix.Scale()
		toTF = func(imp float32) int32 { return int32(imp) }
	} else {
		var maxImp float32
		for t := 0; t < nt; t++ {
			maxImp = max(maxImp, ix.MaxImpact(uint32(t)))
		}
		levels := float64(int(1)<<bits - 1)
		st.Scale = float64(maxImp) / levels
		st.Requantized = true
		scale := st.Scale
		toTF = func(imp float32) int32 {
			q := math.Round(float64(imp) / scale)
			return int32(min(max(q, 1), levels))
		}
	}

	// Pass 1: document lengths and the collection total, which the header
	// (written first) carries.
	docLen := make([]int64, nd)
	var total int64
	var cur index.Cursor
	for t := 0; t < nt; t++ {
		cur.Open(ix, uint32(t))
		for ; cur.Doc() != index.End; cur.Next() {
			tf := int64(toTF(cur.Impact()))
			docLen[cur.Doc()] += tf
			total += tf
			st.Postings++
		}
		if err := cur.Err(); err != nil {
			return st, err
		}
	}

	desc := opt.Description
	if desc != "" {
		desc += "; "
	}
	desc += fmt.Sprintf("SPLADE impact index exported by splade-go: tf = integer impact (%s index", ix.Quantization())
	if st.Requantized {
		desc += fmt.Sprintf(", requantized to %d bits", bits)
	}
	desc += fmt.Sprintf("), weight = tf x %.9g; doclength = sum of impacts", st.Scale)
	if fp := ix.Meta.Fingerprint; fp != "" {
		desc += "; fingerprint " + fp
	}
	hdr := CIFFHeader{
		Version: CIFFVersion, NumPostingsLists: int32(nt), NumDocRecords: int32(nd),
		TotalPostingsLists: int32(nt), TotalDocs: int32(nd), TotalTermsInCollection: total,
		AverageDocLength: float64(total) / float64(nd), Description: desc,
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var msg, buf []byte
	put := func() error {
		buf = protowire.AppendVarint(buf[:0], uint64(len(msg)))
		if _, err := bw.Write(buf); err != nil {
			return err
		}
		_, err := bw.Write(msg)
		return err
	}
	msg = appendHeader(msg[:0], hdr)
	if err := put(); err != nil {
		return st, err
	}
	// Pass 2: one PostingsList per term.
	var pl CIFFPostingsList
	for t := 0; t < nt; t++ {
		pl.Term, pl.DF, pl.CF = ix.Term(uint32(t)), 0, 0
		pl.Docs, pl.TFs = pl.Docs[:0], pl.TFs[:0]
		cur.Open(ix, uint32(t))
		for ; cur.Doc() != index.End; cur.Next() {
			tf := toTF(cur.Impact())
			pl.Docs = append(pl.Docs, int32(cur.Doc()))
			pl.TFs = append(pl.TFs, tf)
			pl.CF += int64(tf)
		}
		if err := cur.Err(); err != nil {
			return st, err
		}
		pl.DF = int64(len(pl.Docs))
		msg = appendPostingsList(msg[:0], &pl)
		if err := put(); err != nil {
			return st, err
		}
		if opt.Progress != nil && (t+1)%4096 == 0 {
			opt.Progress(t + 1)
		}
	}
	for d := 0; d < nd; d++ {
		if docLen[d] > math.MaxInt32 {
			return st, fmt.Errorf("ciff: document %q has length %d, beyond CIFF's int32", ix.DocID(uint32(d)), docLen[d])
		}
		msg = appendDocRecord(msg[:0], CIFFDocRecord{DocID: int32(d), CollectionID: ix.DocID(uint32(d)), DocLength: int32(docLen[d])})
		if err := put(); err != nil {
			return st, err
		}
	}
	if opt.Progress != nil {
		opt.Progress(nt)
	}
	return st, bw.Flush()
}

// proto3 omits fields holding their default value; so do we.
func appendInt(b []byte, num protowire.Number, v int64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendHeader(b []byte, h CIFFHeader) []byte {
	b = appendInt(b, 1, int64(h.Version))
	b = appendInt(b, 2, int64(h.NumPostingsLists))
	b = appendInt(b, 3, int64(h.NumDocRecords))
	b = appendInt(b, 4, int64(h.TotalPostingsLists))
	b = appendInt(b, 5, int64(h.TotalDocs))
	b = appendInt(b, 6, h.TotalTermsInCollection)
	if h.AverageDocLength != 0 {
		b = protowire.AppendTag(b, 7, protowire.Fixed64Type)
		b = protowire.AppendFixed64(b, math.Float64bits(h.AverageDocLength))
	}
	return appendString(b, 8, h.Description)
}

func appendPostingsList(b []byte, pl *CIFFPostingsList) []byte {
	b = appendString(b, 1, pl.Term)
	b = appendInt(b, 2, pl.DF)
	b = appendInt(b, 3, pl.CF)
	prev := int32(0)
	for i, d := range pl.Docs {
		gap := int64(d - prev) // the first posting's gap is its id
		prev = d
		tf := int64(pl.TFs[i])
		size := 0
		if gap != 0 {
			size += 1 + protowire.SizeVarint(uint64(gap))
		}
		if tf != 0 {
			size += 1 + protowire.SizeVarint(uint64(tf))
		}
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(size))
		b = appendInt(b, 1, gap)
		b = appendInt(b, 2, tf)
	}
	return b
}

func appendDocRecord(b []byte, r CIFFDocRecord) []byte {
	b = appendInt(b, 1, int64(r.DocID))
	b = appendString(b, 2, r.CollectionID)
	return appendInt(b, 3, int64(r.DocLength))
}

// CIFFReader streams a CIFF file: the header, then NumPostingsLists
// postings lists, then NumDocRecords document records. It validates what
// the format promises (counts, strictly increasing terms and document ids,
// df and cf matching the postings, DocRecords numbered 0, 1, ...) and names
// the message at fault in errors.
type CIFFReader struct {
	r        *bufio.Reader
	name     string
	hdr      CIFFHeader
	lists    int // postings lists read
	docs     int // doc records read
	prevTerm string
	buf      bytes.Buffer
}

// NewCIFFReader reads the header of a CIFF stream; name is used in errors.
func NewCIFFReader(r io.Reader, name string) (*CIFFReader, error) {
	cr := &CIFFReader{r: bufio.NewReaderSize(r, 1<<16), name: name}
	msg, err := cr.message("header")
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty CIFF file", name)
	}
	if err != nil {
		return nil, err
	}
	if err := parseHeader(msg, &cr.hdr); err != nil {
		return nil, fmt.Errorf("%s: header: %w", name, err)
	}
	h := &cr.hdr
	if h.NumPostingsLists < 0 || h.NumDocRecords < 0 || h.TotalPostingsLists < 0 || h.TotalDocs < 0 ||
		h.TotalTermsInCollection < 0 || math.IsNaN(h.AverageDocLength) || h.AverageDocLength < 0 {
		return nil, fmt.Errorf("%s: header: negative or invalid counts", name)
	}
	return cr, nil
}

// Header returns the header.
func (cr *CIFFReader) Header() CIFFHeader { return cr.hdr }

// message reads one length-delimited message; io.EOF only at a clean end.
func (cr *CIFFReader) message(what string) ([]byte, error) {
	n, err := readUvarint(cr.r)
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s: length prefix: %w", cr.name, what, err)
	}
	if n > MaxCIFFMessageBytes {
		return nil, fmt.Errorf("%s: %s: message of %d bytes exceeds the %d-byte limit", cr.name, what, n, MaxCIFFMessageBytes)
	}
	cr.buf.Reset()
	// CopyN grows the buffer as bytes arrive, so a lying length prefix on a
	// short file costs no large allocation.
	if got, err := io.CopyN(&cr.buf, cr.r, int64(n)); err != nil {
		return nil, fmt.Errorf("%s: %s: truncated message (%d of %d bytes)", cr.name, what, got, n)
	}
	return cr.buf.Bytes(), nil
}

func readUvarint(r *bufio.Reader) (uint64, error) {
	var x uint64
	for i := 0; i < 10; i++ {
		c, err := r.ReadByte()
		if err != nil {
			if i > 0 && err == io.EOF {
				return 0, io.ErrUnexpectedEOF
			}
			return 0, err
		}
		if i == 9 && c > 1 {
			break
		}
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return x, nil
		}
	}
	return 0, errors.New("varint overflows 64 bits")
}

// NextPostingsList returns the next postings list (absolute document ids),
// or io.EOF after the header's NumPostingsLists. pl's slices are reused.
func (cr *CIFFReader) NextPostingsList(pl *CIFFPostingsList) error {
	if cr.lists >= int(cr.hdr.NumPostingsLists) {
		return io.EOF
	}
	what := fmt.Sprintf("postings list %d", cr.lists+1)
	msg, err := cr.message(what)
	if err == io.EOF {
		return fmt.Errorf("%s: %s: file ends after %d of %d postings lists", cr.name, what, cr.lists, cr.hdr.NumPostingsLists)
	}
	if err != nil {
		return err
	}
	if err := parsePostingsList(msg, pl, cr.hdr.NumDocRecords); err != nil {
		return fmt.Errorf("%s: %s (term %q): %w", cr.name, what, pl.Term, err)
	}
	if cr.lists > 0 && pl.Term <= cr.prevTerm {
		return fmt.Errorf("%s: %s: term %q does not sort after %q", cr.name, what, pl.Term, cr.prevTerm)
	}
	cr.prevTerm = pl.Term
	cr.lists++
	return nil
}

// NextDocRecord returns the next document record, or io.EOF after the
// header's NumDocRecords. All postings lists must have been read.
func (cr *CIFFReader) NextDocRecord() (CIFFDocRecord, error) {
	if cr.lists < int(cr.hdr.NumPostingsLists) {
		return CIFFDocRecord{}, fmt.Errorf("%s: %d postings lists left unread before the document records", cr.name, int(cr.hdr.NumPostingsLists)-cr.lists)
	}
	if cr.docs >= int(cr.hdr.NumDocRecords) {
		return CIFFDocRecord{}, io.EOF
	}
	what := fmt.Sprintf("document record %d", cr.docs+1)
	msg, err := cr.message(what)
	if err == io.EOF {
		return CIFFDocRecord{}, fmt.Errorf("%s: %s: file ends after %d of %d document records", cr.name, what, cr.docs, cr.hdr.NumDocRecords)
	}
	if err != nil {
		return CIFFDocRecord{}, err
	}
	var r CIFFDocRecord
	if err := parseDocRecord(msg, &r); err != nil {
		return r, fmt.Errorf("%s: %s: %w", cr.name, what, err)
	}
	if int(r.DocID) != cr.docs {
		return r, fmt.Errorf("%s: %s: docid %d, want %d (records must be numbered in order)", cr.name, what, r.DocID, cr.docs)
	}
	if r.DocLength < 0 {
		return r, fmt.Errorf("%s: %s: negative doclength %d", cr.name, what, r.DocLength)
	}
	cr.docs++
	return r, nil
}

// Finish checks that nothing follows the last document record.
func (cr *CIFFReader) Finish() error {
	if cr.lists < int(cr.hdr.NumPostingsLists) || cr.docs < int(cr.hdr.NumDocRecords) {
		return fmt.Errorf("%s: not all messages were read", cr.name)
	}
	if _, err := cr.r.ReadByte(); err != io.EOF {
		if err != nil {
			return fmt.Errorf("%s: %w", cr.name, err)
		}
		return fmt.Errorf("%s: trailing data after %d document records", cr.name, cr.docs)
	}
	return nil
}

// field walks the fields of msg, calling f for each; f returns false for
// fields it does not know, which are skipped as protobuf requires.
func fields(msg []byte, f func(num protowire.Number, typ protowire.Type, b []byte) (int, error)) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return protowire.ParseError(n)
		}
		msg = msg[n:]
		m, err := f(num, typ, msg)
		if err != nil {
			return err
		}
		if m == 0 { // unknown field
			m = protowire.ConsumeFieldValue(num, typ, msg)
			if m < 0 {
				return fmt.Errorf("field %d: %w", num, protowire.ParseError(m))
			}
		}
		msg = msg[m:]
	}
	return nil
}

func wrongType(num protowire.Number, typ protowire.Type) error {
	return fmt.Errorf("field %d has wire type %d", num, typ)
}

func consumeVarint(num protowire.Number, typ protowire.Type, b []byte) (uint64, int, error) {
	if typ != protowire.VarintType {
		return 0, 0, wrongType(num, typ)
	}
	v, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return 0, 0, fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
	}
	return v, n, nil
}

func consumeBytes(num protowire.Number, typ protowire.Type, b []byte) ([]byte, int, error) {
	if typ != protowire.BytesType {
		return nil, 0, wrongType(num, typ)
	}
	v, n := protowire.ConsumeBytes(b)
	if n < 0 {
		return nil, 0, fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
	}
	return v, n, nil
}

// int32 fields are encoded sign-extended to 64 bits.
func toInt32(num protowire.Number, v uint64) (int32, error) {
	x := int64(v)
	if x < math.MinInt32 || x > math.MaxInt32 {
		return 0, fmt.Errorf("field %d: %d overflows int32", num, x)
	}
	return int32(x), nil
}

func parseHeader(msg []byte, h *CIFFHeader) error {
	*h = CIFFHeader{}
	return fields(msg, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		switch num {
		case 1, 2, 3, 4, 5:
			v, n, err := consumeVarint(num, typ, b)
			if err != nil {
				return 0, err
			}
			x, err := toInt32(num, v)
			if err != nil {
				return 0, err
			}
			*[]*int32{&h.Version, &h.NumPostingsLists, &h.NumDocRecords, &h.TotalPostingsLists, &h.TotalDocs}[num-1] = x
			return n, nil
		case 6:
			v, n, err := consumeVarint(num, typ, b)
			h.TotalTermsInCollection = int64(v)
			return n, err
		case 7:
			if typ != protowire.Fixed64Type {
				return 0, wrongType(num, typ)
			}
			v, n := protowire.ConsumeFixed64(b)
			if n < 0 {
				return 0, protowire.ParseError(n)
			}
			h.AverageDocLength = math.Float64frombits(v)
			return n, nil
		case 8:
			v, n, err := consumeBytes(num, typ, b)
			h.Description = string(v)
			return n, err
		}
		return 0, nil
	})
}

func parsePostingsList(msg []byte, pl *CIFFPostingsList, numDocs int32) error {
	pl.Term, pl.DF, pl.CF = "", 0, 0
	pl.Docs, pl.TFs = pl.Docs[:0], pl.TFs[:0]
	var doc int64 = -1
	var cf int64
	err := fields(msg, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		switch num {
		case 1:
			v, n, err := consumeBytes(num, typ, b)
			pl.Term = string(v)
			return n, err
		case 2, 3:
			v, n, err := consumeVarint(num, typ, b)
			if num == 2 {
				pl.DF = int64(v)
			} else {
				pl.CF = int64(v)
			}
			return n, err
		case 4:
			p, n, err := consumeBytes(num, typ, b)
			if err != nil {
				return 0, err
			}
			var gap, tf int32
			err = fields(p, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
				if num != 1 && num != 2 {
					return 0, nil
				}
				v, n, err := consumeVarint(num, typ, b)
				if err != nil {
					return 0, err
				}
				x, err := toInt32(num, v)
				if num == 1 {
					gap = x
				} else {
					tf = x
				}
				return n, err
			})
			if err != nil {
				return 0, fmt.Errorf("posting %d: %w", len(pl.Docs)+1, err)
			}
			if gap < 0 || tf < 0 || (gap == 0 && doc >= 0) {
				return 0, fmt.Errorf("posting %d: invalid docid gap %d or tf %d", len(pl.Docs)+1, gap, tf)
			}
			if doc < 0 {
				doc = int64(gap) // the first posting's gap is its docid
			} else {
				doc += int64(gap)
			}
			if doc >= int64(numDocs) {
				return 0, fmt.Errorf("posting %d: docid %d beyond the header's %d documents", len(pl.Docs)+1, doc, numDocs)
			}
			pl.Docs = append(pl.Docs, int32(doc))
			pl.TFs = append(pl.TFs, tf)
			cf += int64(tf)
			return n, nil
		}
		return 0, nil
	})
	if err != nil {
		return err
	}
	if pl.DF != int64(len(pl.Docs)) || pl.CF != cf {
		return fmt.Errorf("df %d and cf %d disagree with the %d postings (cf %d)", pl.DF, pl.CF, len(pl.Docs), cf)
	}
	return nil
}

func parseDocRecord(msg []byte, r *CIFFDocRecord) error {
	return fields(msg, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		switch num {
		case 1, 3:
			v, n, err := consumeVarint(num, typ, b)
			if err != nil {
				return 0, err
			}
			x, err := toInt32(num, v)
			if num == 1 {
				r.DocID = x
			} else {
				r.DocLength = x
			}
			return n, err
		case 2:
			v, n, err := consumeBytes(num, typ, b)
			r.CollectionID = string(v)
			return n, err
		}
		return 0, nil
	})
}
