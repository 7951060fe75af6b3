package main

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/splade-go/splade/model"
)

func TestBenchEncodeUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no model", nil, "--model is required"},
		{"negative threads", []string{"--model", "x", "--threads", "-1"}, "must not be negative"},
		{"no docs", []string{"--model", "x", "--docs", "0"}, ">= 1"},
		{"lengths without texts", []string{"--model", "x", "--texts", "", "--lengths-out", "l"}, "need --texts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := runBenchEncode(tt.args)
			var ue usageError
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &ue) {
				t.Fatalf("err = %v, want a usage error containing %q", err, tt.want)
			}
		})
	}
}

// TestBenchEncodeOutputs runs the workloads on the tiny golden model and
// checks what the other engines and the parity check read: one length per
// text, equal to its token count, and the weights the encoder gives each
// text on its own (up to float32 rounding: the kernels may block rows of a
// batch differently).
func TestBenchEncodeOutputs(t *testing.T) {
	dir := filepath.Join("..", "..", "model", "testdata", "distilbert")
	m, tok, err := model.LoadWithTokenizer(dir)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := model.NewEncoder(m, tok, model.Options{MaxLength: 16, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	tsv := filepath.Join(t.TempDir(), "texts.tsv")
	if err := os.WriteFile(tsv, []byte("a\tthe cat sat on the mat\nb\tqueries are short.\nc\tinformation retrieval evaluates rankings with judged pairs over and over again\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 3, 10} {
		texts, err := readTexts(tsv, n)
		if err != nil {
			t.Fatal(err)
		}
		if want := min(n, 3); len(texts) != want {
			t.Fatalf("readTexts(%d): %d texts, want %d", n, len(texts), want)
		}
	}
	texts, _ := readTexts(tsv, 3)
	res, ids, ws, err := benchEncode(enc, benchWorkloads{docTokens: 12, queryTokens: 5, texts: texts})
	if err != nil {
		t.Fatal(err)
	}
	if res.Batch16x128 <= 0 || res.Query16MS <= 0 || res.MixedDocsPerS <= 0 || res.MixedDocs != 3 {
		t.Fatalf("result %+v: want positive speeds and 3 mixed docs", res)
	}
	if ids[2][0] != tok.CLSID() || len(ids[2]) != 16 {
		t.Errorf("the long text has %d tokens starting with %d, want 16 starting with [CLS]", len(ids[2]), ids[2][0])
	}

	out := t.TempDir()
	if err := writeLengths(filepath.Join(out, "lengths.txt"), ids); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, "lengths.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range strings.Fields(string(b)) {
		if n, _ := strconv.Atoi(f); n != len(ids[i]) {
			t.Errorf("lengths line %d: %s, want %d", i+1, f, len(ids[i]))
		}
	}

	if err := writeParity(filepath.Join(out, "parity.json"), ids, ws); err != nil {
		t.Fatal(err)
	}
	var p struct {
		InputIDs [][]int32 `json:"input_ids"`
		Weights  []struct {
			IDs    []int32   `json:"ids"`
			Values []float32 `json:"values"`
		} `json:"weights"`
	}
	b, err = os.ReadFile(filepath.Join(out, "parity.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	for i := range ids {
		if !slices.Equal(p.InputIDs[i], ids[i]) || !slices.Equal(p.Weights[i].IDs, ws[i].IDs) || !slices.Equal(p.Weights[i].Values, ws[i].Values) {
			t.Errorf("text %d: parity file does not round-trip", i)
		}
		alone, err := enc.EncodeIDs(ids[i : i+1])
		if err != nil {
			t.Fatal(err)
		}
		if len(alone[0].IDs) == 0 {
			t.Errorf("text %d: empty SPLADE vector", i)
		}
		dense := make([]float64, m.Config.Vocab)
		for k, id := range alone[0].IDs {
			dense[id] = float64(alone[0].Values[k])
		}
		for k, id := range ws[i].IDs {
			dense[id] -= float64(ws[i].Values[k])
		}
		for id, d := range dense {
			if math.Abs(d) > 1e-5 {
				t.Errorf("text %d, term %d: batched and alone differ by %g", i, id, d)
			}
		}
	}
}

// TestBenchEncodeLockstep drives --lockstep as scripts/bench/lockstep.py
// does: a ready line, then one timing line per workload line, and an error
// for an unknown workload.
func TestBenchEncodeLockstep(t *testing.T) {
	m, tok, err := model.LoadWithTokenizer(filepath.Join("..", "..", "model", "testdata", "distilbert"))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := model.NewEncoder(m, tok, model.Options{MaxLength: 16, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	ops := newBenchOps(enc, benchWorkloads{docTokens: 12, queryTokens: 5, texts: []string{"the cat sat", "on the mat"}})
	var out strings.Builder
	if err := serveLockstep(ops, strings.NewReader("batch\nquery\n\nmixed\n"), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], `"ready":true`) {
		t.Fatalf("output %q: want a ready line and three timings", out.String())
	}
	for i, op := range []string{"batch", "query", "mixed"} {
		var r struct {
			Op string  `json:"op"`
			S  float64 `json:"s"`
		}
		if err := json.Unmarshal([]byte(lines[i+1]), &r); err != nil || r.Op != op || r.S <= 0 {
			t.Errorf("line %q (%v): want op %s with a positive time", lines[i+1], err, op)
		}
	}
	if err := serveLockstep(ops, strings.NewReader("batch\nfly\n"), io.Discard); err == nil || !strings.Contains(err.Error(), `unknown workload "fly"`) {
		t.Errorf("unknown workload: err = %v", err)
	}
}
