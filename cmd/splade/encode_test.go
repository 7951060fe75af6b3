package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/splade-go/splade/corpus"
	"github.com/splade-go/splade/internal/shareddata"
	"github.com/splade-go/splade/sparse"
	"github.com/splade-go/splade/tokenize"
)

const testModel = "../../model/testdata"

// TestEncodeGolden: the command's output for the golden texts matches the
// PyTorch reference (model/testdata/golden.json), in input order.
func TestEncodeGolden(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testModel, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Texts  []string                                   `json:"texts"`
		Models map[string]map[string][]map[string]float64 `json:"models"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "texts.jsonl")
	var lines []string
	for i, text := range g.Texts {
		j, _ := json.Marshal(map[string]string{"_id": fmt.Sprint("t", i), "title": "", "text": text})
		lines = append(lines, string(j))
	}
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"bert", "distilbert"} {
		for _, pooling := range []string{"max", "sum"} {
			out := filepath.Join(dir, arch+pooling+".jsonl.gz")
			err := runEncode([]string{"--model", filepath.Join(testModel, arch), "--input", in, "--output", out,
				"--pooling", pooling, "--batch-tokens", "100", "--threads", "2"})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := tokenize.Load(filepath.Join(testModel, arch))
			if err != nil {
				t.Fatal(err)
			}
			r, err := sparse.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range g.Models[arch][pooling] {
				rec, err := r.Next()
				if err != nil {
					t.Fatalf("%s/%s record %d: %v", arch, pooling, i, err)
				}
				if rec.ID != fmt.Sprint("t", i) {
					t.Fatalf("record %d has id %q: output out of order", i, rec.ID)
				}
				got := map[string]float64{}
				for k, term := range rec.Vector.Terms {
					id, ok := tok.ID(term)
					if !ok {
						t.Fatalf("term %q not in the vocabulary", term)
					}
					got[strconv.Itoa(int(id))] = float64(rec.Vector.Weights[k])
				}
				for k, v := range want {
					if d := math.Abs(got[k] - v); d > 1e-4 {
						t.Errorf("%s/%s text %d term %s: got %g, reference %g", arch, pooling, i, k, got[k], v)
					}
				}
				for k, v := range got {
					if want[k] == 0 && v > 1e-4 {
						t.Errorf("%s/%s text %d term %s: got %g, reference 0", arch, pooling, i, k, v)
					}
				}
			}
			if _, err := r.Next(); !errors.Is(err, io.EOF) {
				t.Fatalf("extra output: %v", err)
			}
			r.Close()
		}
	}
}

// TestEncodeErrors: usage errors exit 2, bad input names the file and line
// and leaves no partial output.
func TestEncodeErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.tsv")
	os.WriteFile(bad, []byte("q1\tfine\nno tab here\n"), 0o644)
	good := filepath.Join(dir, "good.tsv")
	os.WriteFile(good, []byte("q1\tfine\n"), 0o644)
	model := filepath.Join(testModel, "bert")
	out := filepath.Join(dir, "out.jsonl")
	tests := []struct {
		name  string
		args  []string
		usage bool
		want  string
	}{
		{"no model", []string{"--input", good, "--output", out}, true, "required"},
		{"bad pooling", []string{"--model", model, "--input", good, "--output", out, "--pooling", "mean"}, true, `"mean"`},
		{"negative top-k", []string{"--model", model, "--input", good, "--output", out, "--top-k", "-1"}, true, "negative"},
		{"bad line", []string{"--model", model, "--input", bad, "--output", out}, false, bad + ":2:"},
		{"missing model", []string{"--model", dir, "--input", good, "--output", out}, false, "no model weights"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := runEncode(tc.args)
			var ue usageError
			if err == nil || errors.As(err, &ue) != tc.usage || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v (usage %v), want one containing %q (usage %v)", err, errors.As(err, &ue), tc.want, tc.usage)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatal("partial output left behind")
			}
		})
	}
}

// TestEncodeQueryDir: --query prefers DIR/query; "default" is the
// embedded model.
func TestEncodeQueryDir(t *testing.T) {
	if got, err := encoderDir(testModel, false); err != nil || got != testModel {
		t.Errorf("document encoder: %s, %v", got, err)
	}
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "query"), 0o755)
	os.WriteFile(filepath.Join(dir, "query", "config.json"), []byte("{}"), 0o644)
	if got, err := encoderDir(dir, true); err != nil || got != filepath.Join(dir, "query") {
		t.Errorf("query encoder: %s, %v", got, err)
	}
	if got, err := encoderDir(dir, false); err != nil || got != dir {
		t.Errorf("document encoder: %s, %v", got, err)
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	got, err := encoderDir("default", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(got, "model.safetensors")); err != nil {
		t.Errorf("default model directory %s: %v", got, err)
	}
}

// TestEncodeSciFact streams a real gzipped BEIR corpus through the small
// test model (16 tokens each, to stay quick): every document comes out
// once, in order.
func TestEncodeSciFact(t *testing.T) {
	path := shareddata.Require(t, "beir/scifact/corpus.jsonl.gz")
	out := filepath.Join(t.TempDir(), "docs.jsonl")
	if err := runEncode([]string{"--model", filepath.Join(testModel, "distilbert"), "--input", path, "--output", out, "--top-k", "32", "--max-length", "16"}); err != nil {
		t.Fatal(err)
	}
	in, err := corpus.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := sparse.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for {
		d, err := in.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rec, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if rec.ID != d.ID || rec.Vector.Len() == 0 || rec.Vector.Len() > 32 {
			t.Fatalf("record %d: id %q with %d terms, want id %q with 1..32", n, rec.ID, rec.Vector.Len(), d.ID)
		}
		n++
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("extra output after %d records: %v", n, err)
	}
	if n != 5183 {
		t.Errorf("%d documents, SciFact has 5183", n)
	}
}
