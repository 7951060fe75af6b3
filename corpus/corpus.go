// Package corpus streams the text collections that the toolkit reads:
// BEIR-style JSON lines ({"_id", "title", "text"}) for corpora and queries,
// and "id<TAB>text" TSV as used by MS MARCO and Anserini. Both may be gzip
// compressed. The format is detected from the first non-blank line, so a
// file's name does not have to say what it holds.
//
// Malformed input is an error naming the file and line; nothing is skipped.
package corpus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/splade-go/splade/internal/fileio"
)

// MaxLineBytes bounds one input line (a document) so that a corrupt file
// gives an error instead of exhausting memory.
const MaxLineBytes = 64 << 20

// Doc is one document or query.
type Doc struct {
	ID    string
	Title string
	Text  string
}

// Contents returns the text to encode or index: title and text joined by a
// space, as BEIR evaluations of SPLADE and Anserini's "flat" BM25 do.
func (d Doc) Contents() string {
	switch {
	case d.Title == "":
		return d.Text
	case d.Text == "":
		return d.Title
	}
	return d.Title + " " + d.Text
}

// Format is the detected layout of a file.
type Format int

const (
	Unknown Format = iota
	JSONL
	TSV
)

// Reader streams documents.
type Reader struct {
	name   string
	lines  *fileio.LineReader
	format Format
	close  func() error
	seen   map[string]int // id -> line, to reject duplicates
}

// Open opens a corpus or query file ("-" for standard input).
func Open(path string) (*Reader, error) {
	f, err := fileio.Open(path)
	if err != nil {
		return nil, err
	}
	r := NewReader(f, path)
	r.close = f.Close
	return r, nil
}

// NewReader reads documents from r; name is used in error messages.
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{name: name, lines: fileio.NewLineReader(r, MaxLineBytes),
		close: func() error { return nil }, seen: make(map[string]int)}
}

// Close releases the file.
func (r *Reader) Close() error { return r.close() }

// Line returns the line number of the document returned last.
func (r *Reader) Line() int { return r.lines.Line() }

// Format returns the detected format (Unknown before the first document).
func (r *Reader) Format() Format { return r.format }

// Next returns the next document or io.EOF.
func (r *Reader) Next() (Doc, error) {
	for {
		line, err := r.lines.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return Doc{}, io.EOF
			}
			return Doc{}, fmt.Errorf("%s:%d: %w", r.name, r.lines.Line(), err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if r.format == Unknown {
			if bytes.TrimSpace(line)[0] == '{' {
				r.format = JSONL
			} else {
				r.format = TSV
			}
		}
		var d Doc
		if r.format == JSONL {
			d, err = parseJSON(line)
		} else {
			d, err = parseTSV(line)
		}
		if err != nil {
			return Doc{}, fmt.Errorf("%s:%d: %w", r.name, r.lines.Line(), err)
		}
		if prev, dup := r.seen[d.ID]; dup {
			return Doc{}, fmt.Errorf("%s:%d: duplicate id %q (first on line %d)", r.name, r.lines.Line(), d.ID, prev)
		}
		r.seen[d.ID] = r.lines.Line()
		return d, nil
	}
}

type jsonDoc struct {
	ID    json.RawMessage `json:"_id"`
	ID2   json.RawMessage `json:"id"`
	Title *string         `json:"title"`
	Text  *string         `json:"text"`
	Cont  *string         `json:"contents"`
}

func parseJSON(line []byte) (Doc, error) {
	var j jsonDoc
	if err := json.Unmarshal(line, &j); err != nil {
		return Doc{}, fmt.Errorf("invalid JSON: %v", err)
	}
	raw := j.ID
	if raw == nil {
		raw = j.ID2
	}
	if raw == nil {
		return Doc{}, errors.New(`missing "_id"`)
	}
	var id string
	if err := json.Unmarshal(raw, &id); err != nil {
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return Doc{}, fmt.Errorf(`"_id" must be a string or number`)
		}
		id = n.String()
	}
	if id == "" {
		return Doc{}, errors.New(`empty "_id"`)
	}
	d := Doc{ID: id}
	if j.Title != nil {
		d.Title = *j.Title
	}
	switch {
	case j.Text != nil:
		d.Text = *j.Text
	case j.Cont != nil:
		d.Text = *j.Cont
	default:
		return Doc{}, fmt.Errorf(`document %q: missing "text"`, id)
	}
	return d, nil
}

func parseTSV(line []byte) (Doc, error) {
	tab := bytes.IndexByte(line, '\t')
	if tab < 0 {
		return Doc{}, errors.New("expected id<TAB>text, found no tab")
	}
	id := string(bytes.TrimSpace(line[:tab]))
	if id == "" {
		return Doc{}, errors.New("empty id before the tab")
	}
	return Doc{ID: id, Text: string(line[tab+1:])}, nil
}
