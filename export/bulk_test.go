package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/splade-go/splade/sparse"
)

func TestEscapeFeature(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"cat", "cat"}, {".", "%2E"}, {"##.", "##%2E"}, {"...", "%2E%2E%2E"}, {"%", "%25"}, {"%2E", "%252E"}, {"a.b%c", "a%2Eb%25c"},
	} {
		got := EscapeFeature(tc.in)
		if got != tc.want || strings.Contains(got, ".") {
			t.Errorf("EscapeFeature(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if back := UnescapeFeature(got); back != tc.in {
			t.Errorf("UnescapeFeature(%q) = %q, want %q", got, back, tc.in)
		}
	}
}

// lines splits NDJSON output and parses each line into a generic value.
func lines(t *testing.T, out string) []any {
	t.Helper()
	if !strings.HasSuffix(out, "\n") {
		t.Fatalf("output does not end with a newline: %q", out)
	}
	var vals []any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var v any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		vals = append(vals, v)
	}
	return vals
}

func TestBulkWriter(t *testing.T) {
	recs := []sparse.Record{
		{ID: "doc-1", Vector: sparse.Vector{Terms: []string{"cat", ".", "100%"}, Weights: []float32{1.5, 0.25, 2}}},
		{ID: `q"uote\ü`, Vector: sparse.Vector{Terms: []string{"dog", "zero"}, Weights: []float32{0.1, 0}}},
		{ID: "empty"},
	}
	cases := []struct {
		dots DotPolicy
		want []any
	}{
		{DotsEscape, []any{
			map[string]any{"index": map[string]any{"_index": "msmarco", "_id": "doc-1"}},
			map[string]any{"splade.tokens": map[string]any{"cat": 1.5, "%2E": 0.25, "100%25": 2.0}},
			map[string]any{"index": map[string]any{"_index": "msmarco", "_id": `q"uote\ü`}},
			map[string]any{"splade.tokens": map[string]any{"dog": 0.1}},
			map[string]any{"index": map[string]any{"_index": "msmarco", "_id": "empty"}},
			map[string]any{"splade.tokens": map[string]any{}},
		}},
		{DotsKeep, []any{
			map[string]any{"index": map[string]any{"_index": "msmarco", "_id": "doc-1"}},
			map[string]any{"splade.tokens": map[string]any{"cat": 1.5, ".": 0.25, "100%": 2.0}},
			map[string]any{"index": map[string]any{"_index": "msmarco", "_id": `q"uote\ü`}},
			map[string]any{"splade.tokens": map[string]any{"dog": 0.1}},
			map[string]any{"index": map[string]any{"_index": "msmarco", "_id": "empty"}},
			map[string]any{"splade.tokens": map[string]any{}},
		}},
	}
	for _, tc := range cases {
		var buf bytes.Buffer
		bw, err := NewBulkWriter(&buf, OpenSearchOptions{Index: "msmarco", Field: "splade.tokens", Dots: tc.dots})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if err := bw.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}
		if got := lines(t, buf.String()); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("dots %v:\n got %v\nwant %v", tc.dots, got, tc.want)
		}
		if bw.Docs != 3 || bw.Features != 4 || bw.Zeros != 1 {
			t.Errorf("counts docs %d features %d zeros %d", bw.Docs, bw.Features, bw.Zeros)
		}
	}
}

func TestBulkWriterErrors(t *testing.T) {
	if _, err := NewBulkWriter(&bytes.Buffer{}, OpenSearchOptions{Field: "f"}); err == nil {
		t.Error("missing index name accepted")
	}
	for _, tc := range []struct {
		name string
		dots DotPolicy
		rec  sparse.Record
		want string
	}{
		{"negative", DotsEscape, sparse.Record{ID: "a", Vector: sparse.Vector{Terms: []string{"x"}, Weights: []float32{-1}}}, `term "x" has weight -1`},
		{"dot refused", DotsError, sparse.Record{ID: "a", Vector: sparse.Vector{Terms: []string{"x", "##."}, Weights: []float32{1, 1}}}, `term "##." contains a dot`},
		{"lengths", DotsEscape, sparse.Record{ID: "a", Vector: sparse.Vector{Terms: []string{"x"}}}, "1 terms but 0 weights"},
	} {
		bw, _ := NewBulkWriter(&bytes.Buffer{}, OpenSearchOptions{Index: "i", Field: "f", Dots: tc.dots})
		if err := bw.Write(tc.rec); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `document "a"`) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := ParseDotPolicy("drop"); err == nil {
		t.Error("unknown dot policy accepted")
	}
}

func TestQdrantWriter(t *testing.T) {
	vocab, err := ReadVocab(strings.NewReader("[PAD]\ncat\r\ndog\n\n##s\n"), "vocab.txt")
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := vocab.ID("##s"); !ok || id != 4 || vocab.Size != 5 {
		t.Fatalf("##s -> %d %v, size %d", id, ok, vocab.Size)
	}
	var buf bytes.Buffer
	qw, err := NewQdrantWriter(&buf, vocab, "splade", 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []sparse.Record{
		{ID: "d1", Vector: sparse.Vector{Terms: []string{"dog", "cat", "##s"}, Weights: []float32{0.5, 1.25, 0}}},
		{ID: "MED-2", Vector: sparse.Vector{}},
	} {
		if err := qw.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := qw.Flush(); err != nil {
		t.Fatal(err)
	}
	want := []any{
		map[string]any{"id": 10.0, "vector": map[string]any{"splade": map[string]any{"indices": []any{1.0, 2.0, 4.0}, "values": []any{1.25, 0.5, 0.0}}}, "payload": map[string]any{"doc_id": "d1"}},
		map[string]any{"id": 11.0, "vector": map[string]any{"splade": map[string]any{"indices": []any{}, "values": []any{}}}, "payload": map[string]any{"doc_id": "MED-2"}},
	}
	if got := lines(t, buf.String()); !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %v\nwant %v", got, want)
	}
	if err := qw.Write(sparse.Record{ID: "d3", Vector: sparse.Vector{Terms: []string{"bird"}, Weights: []float32{1}}}); err == nil ||
		!strings.Contains(err.Error(), `term "bird" is not in the vocabulary`) {
		t.Errorf("unknown term: %v", err)
	}
}

func TestReadVocabErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "vocab.txt: empty vocabulary"},
		{"a\nb\na\n", `vocab.txt:3: term "a" already on line 1`},
	} {
		if _, err := ReadVocab(strings.NewReader(tc.in), "vocab.txt"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
	if _, err := LoadVocab("/nonexistent/vocab.txt"); err == nil {
		t.Error("missing file accepted")
	}
}
