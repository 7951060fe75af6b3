package export

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/splade-go/splade/internal/fileio"
	"github.com/splade-go/splade/sparse"
)

// DotPolicy says what the OpenSearch/Elasticsearch exporter does with
// terms containing '.'. Those engines read a dot in an object key as a
// path separator: rank_features (OpenSearch, Elasticsearch) and
// sparse_vector before Elasticsearch 8.16 reject such feature names
// ("fields do not support dots in feature names"), and WordPiece
// vocabularies hold several ('.', '##.', '...').
type DotPolicy int

const (
	// DotsEscape rewrites feature names with EscapeFeature (the default):
	// every index accepts them, and queries must be escaped the same way.
	DotsEscape DotPolicy = iota
	// DotsKeep writes terms unchanged (Elasticsearch 8.16+ sparse_vector
	// accepts dots).
	DotsKeep
	// DotsError fails on the first term containing a dot.
	DotsError
)

// ParseDotPolicy parses "escape", "keep" or "error".
func ParseDotPolicy(s string) (DotPolicy, error) {
	switch s {
	case "escape":
		return DotsEscape, nil
	case "keep":
		return DotsKeep, nil
	case "error":
		return DotsError, nil
	}
	return 0, fmt.Errorf("unknown dot policy %q (want escape, keep or error)", s)
}

// EscapeFeature makes a term a valid rank_features key, reversibly:
// '%' becomes "%25" and '.' becomes "%2E" (URL percent-encoding of just
// those two bytes), so distinct terms stay distinct. Query vectors sent to
// the engine must be escaped the same way.
func EscapeFeature(term string) string {
	if !strings.ContainsAny(term, ".%") {
		return term
	}
	var b strings.Builder
	for i := 0; i < len(term); i++ {
		switch c := term[i]; c {
		case '%':
			b.WriteString("%25")
		case '.':
			b.WriteString("%2E")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// UnescapeFeature inverts EscapeFeature.
func UnescapeFeature(s string) string {
	return strings.NewReplacer("%2E", ".", "%25", "%").Replace(s)
}

// OpenSearchOptions configure a BulkWriter.
type OpenSearchOptions struct {
	Index string // the _index of every action (required)
	Field string // the rank_features / sparse_vector field (required)
	Dots  DotPolicy
}

// BulkWriter writes the _bulk NDJSON of OpenSearch and Elasticsearch: per
// record an action line {"index":{"_index":..,"_id":..}} and a source line
// {FIELD:{term:weight,...}}. rank_features and sparse_vector accept only
// strictly positive weights: zero weights (no contribution to any score)
// are left out and counted in Zeros; negative ones are an error.
type BulkWriter struct {
	w     *bufio.Writer
	opt   OpenSearchOptions
	head  []byte // `{"index":{"_index":NAME,"_id":`
	field []byte // `{FIELD:{`
	line  []byte
	// Docs, Features and Zeros count records, features written and
	// zero weights left out.
	Docs, Features, Zeros int64
}

// NewBulkWriter returns a writer of _bulk NDJSON to w.
func NewBulkWriter(w io.Writer, opt OpenSearchOptions) (*BulkWriter, error) {
	if opt.Index == "" || opt.Field == "" {
		return nil, errors.New("opensearch export: index name and field name are required")
	}
	bw := &BulkWriter{w: bufio.NewWriterSize(w, 1<<16), opt: opt}
	bw.head = append(appendJSONString([]byte(`{"index":{"_index":`), opt.Index), `,"_id":`...)
	bw.field = append(appendJSONString([]byte(`{`), opt.Field), `:{`...)
	return bw, nil
}

// Write writes one record's two lines.
func (bw *BulkWriter) Write(rec sparse.Record) error {
	v := rec.Vector
	if len(v.Terms) != len(v.Weights) {
		return fmt.Errorf("document %q: %d terms but %d weights", rec.ID, len(v.Terms), len(v.Weights))
	}
	b := appendJSONString(append(bw.line[:0], bw.head...), rec.ID)
	b = append(b, "}}\n"...)
	b = append(b, bw.field...)
	n := 0
	for i, t := range v.Terms {
		w := v.Weights[i]
		if !(w >= 0) || math.IsInf(float64(w), 0) {
			return fmt.Errorf("document %q: term %q has weight %v (rank_features and sparse_vector need finite weights > 0)", rec.ID, t, w)
		}
		if w == 0 {
			bw.Zeros++
			continue
		}
		if strings.Contains(t, ".") || bw.opt.Dots == DotsEscape {
			switch bw.opt.Dots {
			case DotsError:
				return fmt.Errorf("document %q: term %q contains a dot, which rank_features rejects (use dot policy escape or keep)", rec.ID, t)
			case DotsEscape:
				t = EscapeFeature(t)
			}
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, t)
		b = append(b, ':')
		b = strconv.AppendFloat(b, float64(w), 'g', -1, 32)
		n++
	}
	b = append(b, "}}\n"...)
	bw.line = b
	bw.Docs++
	bw.Features += int64(n)
	_, err := bw.w.Write(b)
	return err
}

// Flush writes buffered lines.
func (bw *BulkWriter) Flush() error { return bw.w.Flush() }

// Vocab maps terms to the ids Qdrant's sparse vectors use: the 0-based
// line number in a vocabulary file (one token per line, as BERT's
// vocab.txt), so that query vectors made from the same file line up.
type Vocab struct {
	ids  map[string]uint32
	Size int
}

// LoadVocab reads a vocabulary file (gzip ok). Empty lines hold no term;
// a term on two lines is an error naming both.
func LoadVocab(path string) (*Vocab, error) {
	f, err := fileio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadVocab(f, path)
}

// ReadVocab reads a vocabulary from r; name is used in errors.
func ReadVocab(r io.Reader, name string) (*Vocab, error) {
	lr := fileio.NewLineReader(r, 1<<20)
	v := &Vocab{ids: make(map[string]uint32)}
	for {
		line, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, lr.Line(), err)
		}
		id := lr.Line() - 1
		if id > math.MaxUint32 {
			return nil, fmt.Errorf("%s:%d: vocabulary exceeds 32-bit ids", name, lr.Line())
		}
		term := strings.TrimSuffix(string(line), "\r")
		v.Size = id + 1
		if term == "" {
			continue
		}
		if first, dup := v.ids[term]; dup {
			return nil, fmt.Errorf("%s:%d: term %q already on line %d", name, lr.Line(), term, first+1)
		}
		v.ids[term] = uint32(id)
	}
	if len(v.ids) == 0 {
		return nil, fmt.Errorf("%s: empty vocabulary", name)
	}
	return v, nil
}

// ID returns the id of term.
func (v *Vocab) ID(term string) (uint32, bool) {
	id, ok := v.ids[term]
	return id, ok
}

// QdrantWriter writes Qdrant points as JSON lines:
// {"id":N,"vector":{NAME:{"indices":[...],"values":[...]}},"payload":{"doc_id":ID}}.
// Qdrant point ids must be unsigned integers or UUIDs, so the id is the
// record's ordinal (from First) and the external id goes to the payload.
// Indices are sorted increasingly, as Qdrant stores them.
type QdrantWriter struct {
	w     *bufio.Writer
	vocab *Vocab
	head  []byte // `,"vector":{NAME:{"indices":[`
	next  uint64
	line  []byte
	pairs []idWeight
	// Points and Values count points and vector entries written.
	Points, Values int64
}

type idWeight struct {
	id uint32
	w  float32
}

// NewQdrantWriter returns a writer of points to w; first is the id of the
// first point.
func NewQdrantWriter(w io.Writer, vocab *Vocab, vectorName string, first uint64) (*QdrantWriter, error) {
	if vocab == nil || vectorName == "" {
		return nil, errors.New("qdrant export: a vocabulary and a vector name are required")
	}
	qw := &QdrantWriter{w: bufio.NewWriterSize(w, 1<<16), vocab: vocab, next: first}
	qw.head = append(appendJSONString([]byte(`,"vector":{`), vectorName), `:{"indices":[`...)
	return qw, nil
}

// Write writes one point. A term missing from the vocabulary is an error:
// dropping it would change scores silently.
func (qw *QdrantWriter) Write(rec sparse.Record) error {
	v := rec.Vector
	if len(v.Terms) != len(v.Weights) {
		return fmt.Errorf("document %q: %d terms but %d weights", rec.ID, len(v.Terms), len(v.Weights))
	}
	qw.pairs = qw.pairs[:0]
	for i, t := range v.Terms {
		w := v.Weights[i]
		if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
			return fmt.Errorf("document %q: term %q has non-finite weight %v", rec.ID, t, w)
		}
		id, ok := qw.vocab.ID(t)
		if !ok {
			return fmt.Errorf("document %q: term %q is not in the vocabulary", rec.ID, t)
		}
		qw.pairs = append(qw.pairs, idWeight{id, w})
	}
	sort.Slice(qw.pairs, func(i, j int) bool { return qw.pairs[i].id < qw.pairs[j].id })
	for i := 1; i < len(qw.pairs); i++ {
		if qw.pairs[i].id == qw.pairs[i-1].id {
			return fmt.Errorf("document %q: two terms share vocabulary id %d", rec.ID, qw.pairs[i].id)
		}
	}
	b := strconv.AppendUint(append(qw.line[:0], `{"id":`...), qw.next, 10)
	b = append(b, qw.head...)
	for i, p := range qw.pairs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(p.id), 10)
	}
	b = append(b, `],"values":[`...)
	for i, p := range qw.pairs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, float64(p.w), 'g', -1, 32)
	}
	b = append(b, `]}},"payload":{"doc_id":`...)
	b = appendJSONString(b, rec.ID)
	b = append(b, "}}\n"...)
	qw.line = b
	qw.next++
	qw.Points++
	qw.Values += int64(len(qw.pairs))
	_, err := qw.w.Write(b)
	return err
}

// Flush writes buffered lines.
func (qw *QdrantWriter) Flush() error { return qw.w.Flush() }

// appendJSONString appends s as a JSON string: printable ASCII without
// quotes or backslashes (nearly every WordPiece token) directly, anything
// else through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}
