package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/model"
	"github.com/splade-go/splade/sparse"
	"github.com/splade-go/splade/synth"
)

// synthIndex builds an index of synthetic SPLADE-like vectors.
func synthIndex(t testing.TB, docs int, fingerprint string) (*index.Index, *synth.Generator) {
	t.Helper()
	g := synth.New(synth.Options{Docs: docs, Queries: 20, Seed: 7})
	recs := make([]sparse.Record, docs)
	for i := range recs {
		recs[i] = g.Doc(i)
	}
	return buildIndex(t, recs, index.BuildOptions{Fingerprint: fingerprint}), g
}

// buildIndex indexes recs in a temporary directory and opens the index.
func buildIndex(t testing.TB, recs []sparse.Record, opt index.BuildOptions) *index.Index {
	t.Helper()
	dir := t.TempDir()
	if _, err := index.Build(dir, recs, opt); err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

// englishDocs is a small corpus in the vocabulary of the test checkpoint.
var englishDocs = []struct{ id, text string }{
	{"d1", "The moon pulls the ocean and makes the tides rise and fall."},
	{"d2", "A cat sat on the warm mat in the sun."},
	{"d3", "The river flows to the sea through the green valley."},
	{"d4", "Students read books in the school library every day."},
	{"d5", "The train left the station early in the morning."},
	{"d6", "Rain fell on the city and the streets were wet."},
	{"d7", "He played music on the piano for his family."},
	{"d8", "The doctor said the patient needs rest and water."},
	{"d9", "Birds fly south when the winter comes."},
	{"d10", "The old house on the hill has a red door."},
}

type textFixture struct {
	ix      *index.Index
	enc     *model.Encoder
	docs    *DocStore
	vectors map[string]sparse.Vector
}

// textIndex encodes englishDocs with the tiny BERT checkpoint of package
// model and indexes them under the tokenizer's fingerprint; the texts and
// vectors are written to files and loaded back into a DocStore.
func textIndex(t testing.TB) textFixture {
	t.Helper()
	m, tok, err := model.LoadWithTokenizer(filepath.Join("..", "model", "testdata", "bert"))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := model.NewEncoder(m, tok, model.Options{MaxLength: 64, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	texts := make([]string, len(englishDocs))
	for i, d := range englishDocs {
		texts[i] = d.text
	}
	vs, err := enc.Encode(texts)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "idx")
	b, err := index.NewBuilder(dir, index.BuildOptions{Fingerprint: tok.Fingerprint()})
	if err != nil {
		t.Fatal(err)
	}
	var vbuf, cbuf bytes.Buffer
	w := sparse.NewWriter(&vbuf)
	vectors := map[string]sparse.Vector{}
	for i, d := range englishDocs {
		if err := b.Add(d.id, vs[i]); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(sparse.Record{ID: d.id, Vector: vs[i]}); err != nil {
			t.Fatal(err)
		}
		vectors[d.id] = vs[i]
		fmt.Fprintf(&cbuf, "%s\t%s\n", d.id, d.text)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Finish(); err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	vpath, cpath := filepath.Join(tmp, "vectors.jsonl"), filepath.Join(tmp, "corpus.tsv")
	if err := os.WriteFile(vpath, vbuf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cpath, cbuf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ds := &DocStore{}
	if n, err := ds.LoadVectors(vpath, nil); err != nil || n != len(englishDocs) {
		t.Fatalf("LoadVectors: %d, %v", n, err)
	}
	if n, err := ds.LoadCorpus(cpath, nil); err != nil || n != len(englishDocs) {
		t.Fatalf("LoadCorpus: %d, %v", n, err)
	}
	return textFixture{ix: ix, enc: enc, docs: ds, vectors: vectors}
}

func newServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = discardLogger()
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// post sends body (a string is sent as is, anything else as JSON) and
// returns the status and the response body.
func post(t testing.TB, h http.Handler, path string, body any) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req := httptest.NewRequest(http.MethodPost, path, rd)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes(), rec.Header()
}

func get(t testing.TB, h http.Handler, path string) (int, []byte, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.Bytes(), rec.Header()
}

func mustUnmarshal[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("response %s: %v", b, err)
	}
	return v
}

// vectorJSON renders a vector as the JSON object the API takes.
func vectorJSON(v sparse.Vector) json.RawMessage {
	var b strings.Builder
	b.WriteByte('{')
	for i, term := range v.Terms {
		if i > 0 {
			b.WriteByte(',')
		}
		tb, _ := json.Marshal(term)
		fmt.Fprintf(&b, "%s:%v", tb, v.Weights[i])
	}
	b.WriteByte('}')
	return json.RawMessage(b.String())
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func mustRequest(t testing.TB, method, path, body string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}
