package corpus

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/splade-go/splade/internal/shareddata"
)

func readAll(t *testing.T, name, in string) ([]Doc, error) {
	t.Helper()
	r := NewReader(strings.NewReader(in), name)
	var docs []Doc
	for {
		d, err := r.Next()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, err
		}
		docs = append(docs, d)
	}
}

func TestFormats(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Doc
		contents []string
	}{
		{"beir", `{"_id": "d1", "title": "T", "text": "body", "metadata": {}}` + "\n" + `{"_id": 2, "text": "x"}` + "\n",
			[]Doc{{"d1", "T", "body"}, {"2", "", "x"}}, []string{"T body", "x"}},
		{"tsv", "q1\twhat is it\r\n\nq2\ta\tb\n", []Doc{{"q1", "", "what is it"}, {"q2", "", "a\tb"}}, []string{"what is it", "a\tb"}},
		{"contents", `{"id": "a", "contents": "c"}`, []Doc{{"a", "", "c"}}, []string{"c"}},
		{"title only", `{"_id": "a", "title": "t", "text": ""}`, []Doc{{"a", "t", ""}}, []string{"t"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := readAll(t, tc.name, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != len(tc.want) {
				t.Fatalf("got %d docs, want %d", len(docs), len(tc.want))
			}
			for i := range docs {
				if docs[i] != tc.want[i] || docs[i].Contents() != tc.contents[i] {
					t.Errorf("doc %d = %+v (%q), want %+v (%q)", i, docs[i], docs[i].Contents(), tc.want[i], tc.contents[i])
				}
			}
		})
	}
}

func TestErrorsNameFileAndLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a\tx\nb\tx\na\ty\n", `f:3: duplicate id "a" (first on line 1)`},
		{"a\tx\nno tab here\n", "f:2: expected id<TAB>text"},
		{`{"_id": "a", "text": "x"}` + "\n" + `{"_id": "b"}`, `f:2: document "b": missing "text"`},
		{`{"title": "x", "text": "y"}`, `f:1: missing "_id"`},
		{`{"_id": "a", "text": `, "f:1: invalid JSON"},
		{"\tx\n", "f:1: empty id"},
	}
	for _, tc := range tests {
		_, err := readAll(t, "f", tc.in)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("input %q: error %v, want prefix %q", tc.in, err, tc.want)
		}
	}
}

func TestSciFact(t *testing.T) {
	dir := shareddata.Require(t, "beir/scifact")
	r, err := Open(dir + "/corpus.jsonl.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 5183 || r.Format() != JSONL {
		t.Errorf("read %d docs (format %v), want 5183 JSONL", n, r.Format())
	}
}

// FuzzReader checks that no input makes the reader panic and that every
// document it returns has a non-empty id.
func FuzzReader(f *testing.F) {
	f.Add("a\tb\nc\td\n")
	f.Add(`{"_id": "x", "title": "t", "text": "y"}` + "\n")
	f.Add(`{"_id": 1.5e3, "text": "\u00e9"}`)
	f.Fuzz(func(t *testing.T, in string) {
		docs, _ := readAll(t, "fuzz", in)
		for _, d := range docs {
			if d.ID == "" {
				t.Fatalf("empty id from %q", in)
			}
		}
	})
}
