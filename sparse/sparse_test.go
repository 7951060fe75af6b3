package sparse

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseRecord(t *testing.T) {
	tests := []struct {
		line    string
		want    Record
		wantErr string
	}{
		{`{"id": "d1", "contents": "", "vector": {"a": 1.5, "##b": 0.25}}`,
			Record{ID: "d1", Vector: Vector{[]string{"a", "##b"}, []float32{1.5, 0.25}}}, ""},
		{`{"vector": {"x": 1e-3}, "id": 7}`, Record{ID: "7", Vector: Vector{[]string{"x"}, []float32{0.001}}}, ""},
		{`{"_id": "q", "vector": {}}`, Record{ID: "q", Vector: Vector{}}, ""},
		{`{"id": "caf\u00e9", "vector": {"\"q\"": 2, "é": -1}}`, Record{ID: "café", Vector: Vector{[]string{`"q"`, "é"}, []float32{2, -1}}}, ""},
		{`{"id": "d", "meta": {"x": [1, 2]}, "vector": {"a": 1}}`, Record{ID: "d", Vector: Vector{[]string{"a"}, []float32{1}}}, ""},
		{`{"id": "d#0", "doc": "d", "vector": {"a": 1}}`, Record{ID: "d#0", Doc: "d", Vector: Vector{[]string{"a"}, []float32{1}}}, ""},
		{`{"doc": 12, "id": "12#3", "vector": {"a": 1}}`, Record{ID: "12#3", Doc: "12", Vector: Vector{[]string{"a"}, []float32{1}}}, ""},
		{`{"id": "d", "doc": null, "vector": {"a": 1}}`, Record{ID: "d", Vector: Vector{[]string{"a"}, []float32{1}}}, ""},
		{`{"id": "d#0", "doc": "x", "doc": "d", "vector": {"a": 1}}`, Record{ID: "d#0", Doc: "d", Vector: Vector{[]string{"a"}, []float32{1}}}, ""},
		{`{"id": "d#0", "doc": "", "vector": {"a": 1}}`, Record{}, `empty "doc"`},
		{`{"id": "d#0", "doc": ["d"], "vector": {"a": 1}}`, Record{}, `"doc" must be a string or number`},
		{`{"id": "d", "vector": {"a": 1, "a": 2}}`, Record{}, `term "a" appears twice`},
		{`{"id": "d", "vector": {"a": "1"}}`, Record{}, "not a number"},
		{`{"id": "d", "vector": {"a": 1e999}}`, Record{}, "not a finite float32"},
		{`{"id": "d", "vector": {"a": 1e39}}`, Record{}, "not a finite float32"},
		{`{"id": "", "vector": {}}`, Record{}, `empty "id"`},
		{`{"vector": {}}`, Record{}, `missing "id"`},
		{`{"id": "d"}`, Record{}, `missing "vector"`},
		{`{"id": "d", "vector": [1]}`, Record{}, "must be an object"},
		{`{"id": "d", "vector": {"a": 1}`, Record{}, "invalid JSON"},
		{`{"id": true, "vector": {}}`, Record{}, "string or number"},
	}
	for _, tc := range tests {
		got, err := ParseRecord([]byte(tc.line))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseRecord(%s) error = %v, want %q", tc.line, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseRecord(%s): %v", tc.line, err)
			continue
		}
		if got.ID != tc.want.ID || got.Doc != tc.want.Doc || !equalVec(got.Vector, tc.want.Vector) {
			t.Errorf("ParseRecord(%s) = %+v, want %+v", tc.line, got, tc.want)
		}
	}
}

func equalVec(a, b Vector) bool {
	if len(a.Terms) != len(b.Terms) {
		return false
	}
	return len(a.Terms) == 0 || (reflect.DeepEqual(a.Terms, b.Terms) && reflect.DeepEqual(a.Weights, b.Weights))
}

func TestRoundTripAndGzip(t *testing.T) {
	recs := []Record{
		{ID: "a", Vector: Vector{[]string{"x", "<y>", "##z"}, []float32{1.25, 0.1, 3e-7}}},
		{ID: "b\tc", Vector: Vector{}},
		{ID: "b\tc#1", Doc: "b\tc", Vector: Vector{[]string{"x"}, []float32{2}}},
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "v.jsonl.gz")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(buf.Bytes())
	zw.Close()
	os.WriteFile(path, gz.Bytes(), 0o644)
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i, want := range recs {
		got, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != want.ID || got.Doc != want.Doc || !equalVec(got.Vector, want.Vector) {
			t.Errorf("record %d = %+v, want %+v", i, got, want)
		}
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("want EOF, got %v", err)
	}
}

func TestReaderErrorNamesLine(t *testing.T) {
	in := "{\"id\": \"a\", \"vector\": {}}\n\n{\"id\": \"b\", \"vector\": {\"t\": x}}\n"
	r := NewReader(strings.NewReader(in), "vecs.jsonl")
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	_, err := r.Next()
	if err == nil || !strings.HasPrefix(err.Error(), "vecs.jsonl:3: ") {
		t.Fatalf("error %v does not name vecs.jsonl:3", err)
	}
}

func TestTopKAndDot(t *testing.T) {
	v := Vector{[]string{"a", "b", "c", "d"}, []float32{0.5, 2, 0.001, 1}}
	v.TopK(3, 0.01)
	if !reflect.DeepEqual(v.Terms, []string{"b", "d", "a"}) {
		t.Errorf("TopK = %v", v.Terms)
	}
	v.TopK(0, 0.75)
	if !reflect.DeepEqual(v.Terms, []string{"b", "d"}) {
		t.Errorf("threshold = %v", v.Terms)
	}
	q := Vector{[]string{"d", "z"}, []float32{3, 1}}
	if got := Dot(q, v); got != 3 {
		t.Errorf("Dot = %v, want 3", got)
	}
}

// FuzzParseRecord checks that parsing never panics and that the fast path
// agrees with the strict encoding/json path whenever it accepts a line.
func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{
		`{"id": "d1", "contents": "", "vector": {"a": 1.5, "##b": 0.25}}`,
		`{"vector": {"x": 1e-3}, "id": 7}`,
		`{"id": "caf\u00e9", "vector": {"\"q\"": 2}}`,
		`{"id": "d", "vector": {"a": 1, "a": 2}}`,
		`{"id":"x","vector":{"t":-0.0,"u":1E+2}}`,
		`{"ID": "x", "vector": {}}`,
		`{"id": "x#0", "doc": "x", "vector": {"a": 1}}`,
		`{"id": "x#0", "Doc": "x", "vector": {"a": 1}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		fast, ok := parseFast(line)
		gen, err := parseGeneral(line)
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("fast path accepted %q, general path rejects it: %v", line, err)
		}
		if fast.ID != gen.ID || fast.Doc != gen.Doc || !equalVec(fast.Vector, gen.Vector) {
			t.Fatalf("fast %+v != general %+v for %q", fast, gen, line)
		}
	})
}
