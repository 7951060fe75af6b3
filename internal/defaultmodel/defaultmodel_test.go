package defaultmodel

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/splade-go/splade/model"
)

// TestLoadAndEncode: the embedded checkpoint loads with its tokenizer and
// encodes a text into a sparse vector holding the text's own rare terms
// (a SPLADE model keeps its lexical matches) without being dense.
func TestLoadAndEncode(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir, err := Path()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Path()
	if err != nil || again != dir {
		t.Fatalf("second Path: %s, %v (first %s)", again, err, dir)
	}
	m, tok, err := model.LoadWithTokenizer(dir)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := model.NewEncoder(m, tok, model.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := enc.Encode([]string{"Aspirin lowers the risk of myocardial infarction in diabetic patients."})
	if err != nil {
		t.Fatal(err)
	}
	v := vs[0]
	if v.Len() < 5 || v.Len() > 2000 {
		t.Errorf("vector of %d terms: want a sparse but non-empty vector", v.Len())
	}
	has := map[string]bool{}
	for _, term := range v.Terms {
		has[term] = true
	}
	for _, w := range []string{"my", "##oca", "diabetic", "patients"} {
		if _, ok := tok.ID(w); ok && !has[w] {
			t.Errorf("term %q of the text is missing from its vector", w)
		}
	}
}

// TestExtract writes every embedded file and nothing else.
func TestExtract(t *testing.T) {
	dir := t.TempDir()
	if err := Extract(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	fp1, err1 := Fingerprint()
	fp2, err2 := Fingerprint()
	if err1 != nil || err2 != nil || fp1 != fp2 || len(fp1) != 64 {
		t.Errorf("fingerprint %q / %q (%v, %v)", fp1, fp2, err1, err2)
	}
	if d, err := Resolve("some/dir"); err != nil || d != "some/dir" {
		t.Errorf("Resolve of a directory: %q, %v", d, err)
	}
}

// TestFingerprint: the written-down fingerprint is the embedded files'
// own, so that a new model is never mistaken for a cached copy of the old
// one.
func TestFingerprint(t *testing.T) {
	got, err := filesFingerprint()
	if err != nil {
		t.Fatal(err)
	}
	if fp, _ := Fingerprint(); fp != got {
		t.Fatalf("defaultmodel.go's fingerprint is %s, the embedded files' %s: update the constant", fp, got)
	}
}
