package sparse

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/splade-go/splade/internal/fileio"
)

// MaxLineBytes bounds one input line so that a corrupt or hostile file
// (say, a single 10 GB line) gives an error instead of exhausting memory.
const MaxLineBytes = 64 << 20

// MaxTerms bounds the entries of one vector; the SPLADE vocabulary has
// 30,522 terms, so anything far beyond it is malformed input.
const MaxTerms = 1 << 20

// Reader streams records from a vector JSONL file.
type Reader struct {
	name  string
	lines *fileio.LineReader
	close func() error
}

// Open opens a vector file (gzip-compressed when its name ends in .gz or its
// content starts with the gzip magic bytes).
func Open(path string) (*Reader, error) {
	f, err := fileio.Open(path)
	if err != nil {
		return nil, err
	}
	return &Reader{name: path, lines: fileio.NewLineReader(f, MaxLineBytes), close: f.Close}, nil
}

// NewReader reads records from r; name is used in error messages.
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{name: name, lines: fileio.NewLineReader(r, MaxLineBytes), close: func() error { return nil }}
}

// Line returns the line number of the record returned last.
func (r *Reader) Line() int { return r.lines.Line() }

// Close releases the underlying file.
func (r *Reader) Close() error { return r.close() }

// Next returns the next record, or io.EOF after the last one. Blank lines
// are ignored; any other line that is not a valid record is an error naming
// the file and line.
func (r *Reader) Next() (Record, error) {
	for {
		line, err := r.lines.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return Record{}, io.EOF
			}
			return Record{}, fmt.Errorf("%s:%d: %w", r.name, r.lines.Line(), err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		rec, err := ParseRecord(line)
		if err != nil {
			return Record{}, fmt.Errorf("%s:%d: %w", r.name, r.lines.Line(), err)
		}
		return rec, nil
	}
}

type rawRecord struct {
	ID     *json.RawMessage `json:"id"`
	DocID  *json.RawMessage `json:"_id"`
	Doc    *json.RawMessage `json:"doc"`
	Vector json.RawMessage  `json:"vector"`
}

// ParseRecord parses one JSON line. The id may be a string or a number
// ("_id" is accepted as in BEIR files); weights must be finite numbers and a
// term may not repeat. The optional "doc" (a string or number, not empty)
// makes the record a passage of that document; null means none.
func ParseRecord(line []byte) (Record, error) {
	if rec, ok := parseFast(line); ok {
		return rec, nil
	}
	return parseGeneral(line)
}

// parseGeneral is the strict reference parser, built on encoding/json.
func parseGeneral(line []byte) (Record, error) {
	var raw rawRecord
	if err := json.Unmarshal(line, &raw); err != nil {
		return Record{}, fmt.Errorf("invalid JSON: %v", err)
	}
	idRaw := raw.ID
	if idRaw == nil {
		idRaw = raw.DocID
	}
	if idRaw == nil {
		return Record{}, errors.New(`missing "id"`)
	}
	id, err := parseID(*idRaw, "id")
	if err != nil {
		return Record{}, err
	}
	if len(raw.Vector) == 0 || string(raw.Vector) == "null" {
		return Record{}, fmt.Errorf("record %q: missing \"vector\"", id)
	}
	var doc string
	if raw.Doc != nil && string(*raw.Doc) != "null" {
		if doc, err = parseID(*raw.Doc, "doc"); err != nil {
			return Record{}, fmt.Errorf("record %q: %w", id, err)
		}
	}
	v, err := parseVector(raw.Vector)
	if err != nil {
		return Record{}, fmt.Errorf("record %q: %w", id, err)
	}
	return Record{ID: id, Vector: v, Doc: doc}, nil
}

func parseID(raw json.RawMessage, field string) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "" {
			return "", fmt.Errorf("empty %q", field)
		}
		return s, nil
	}
	var n json.Number
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&n); err == nil {
		return n.String(), nil
	}
	return "", fmt.Errorf(`%q must be a string or number, got %s`, field, truncate(raw))
}

func parseVector(raw json.RawMessage) (Vector, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	tok, err := d.Token()
	if err != nil {
		return Vector{}, fmt.Errorf("invalid \"vector\": %v", err)
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '{' {
		return Vector{}, fmt.Errorf(`"vector" must be an object of term: weight, got %s`, truncate(raw))
	}
	var v Vector
	seen := make(map[string]struct{})
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return Vector{}, fmt.Errorf("invalid \"vector\": %v", err)
		}
		term := tok.(string) // object keys are always strings
		tok, err = d.Token()
		if err != nil {
			return Vector{}, fmt.Errorf("invalid \"vector\": %v", err)
		}
		num, ok := tok.(json.Number)
		if !ok {
			return Vector{}, fmt.Errorf("weight of term %q is not a number", term)
		}
		w, err := strconv.ParseFloat(string(num), 64)
		if err != nil || !finite(w) || math32Overflow(w) {
			return Vector{}, fmt.Errorf("weight of term %q is not a finite float32: %s", term, num)
		}
		if _, dup := seen[term]; dup {
			return Vector{}, fmt.Errorf("term %q appears twice", term)
		}
		if len(v.Terms) >= MaxTerms {
			return Vector{}, fmt.Errorf("more than %d terms", MaxTerms)
		}
		seen[term] = struct{}{}
		v.Terms = append(v.Terms, term)
		v.Weights = append(v.Weights, float32(w))
	}
	return v, nil
}

func math32Overflow(w float64) bool { return w > 3.4028234663852886e38 || w < -3.4028234663852886e38 }

func truncate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// Writer writes records as JSON lines.
type Writer struct {
	w   *bufio.Writer
	buf []byte
}

// NewWriter returns a buffered writer; call Flush when done.
func NewWriter(w io.Writer) *Writer { return &Writer{w: bufio.NewWriterSize(w, 1<<16)} }

// Write writes one record. Weights are written with the shortest
// representation that round-trips a float32.
func (w *Writer) Write(rec Record) error {
	b := w.buf[:0]
	b = append(b, `{"id": `...)
	b = appendJSONString(b, rec.ID)
	if rec.Doc != "" {
		b = append(b, `, "doc": `...)
		b = appendJSONString(b, rec.Doc)
	}
	b = append(b, `, "contents": "", "vector": {`...)
	for i, t := range rec.Vector.Terms {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendJSONString(b, t)
		b = append(b, ": "...)
		b = strconv.AppendFloat(b, float64(rec.Vector.Weights[i]), 'g', -1, 32)
	}
	b = append(b, "}}\n"...)
	w.buf = b
	_, err := w.w.Write(b)
	return err
}

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error { return w.w.Flush() }

func appendJSONString(b []byte, s string) []byte {
	enc, _ := json.Marshal(s) // never fails for a string
	return append(b, enc...)
}
