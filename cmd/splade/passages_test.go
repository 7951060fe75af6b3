package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/splade-go/splade/model"
	"github.com/splade-go/splade/sparse"
)

// TestPassagesEndToEnd: encode --chunk writes one record per window with
// the document in "doc", each window encoded as its own text; index keeps
// the map; search returns documents scored by their best passage, and
// --passages the passages.
func TestPassagesEndToEnd(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string { return writeTestFile(t, dir, name, content) }
	texts := map[string]string{
		"long": "the history of the city begins with a small village on the river. " +
			"people came to trade and the market grew. later a school and a church were built, " +
			"and the railway brought new work. today the city is known for its university and its music.",
		"a#1":   "a short text about the river and the market.",
		"short": "music and the university",
		"empty": "",
	}
	order := []string{"long", "a#1", "short", "empty"}
	var corpus strings.Builder
	for _, id := range order {
		fmt.Fprintf(&corpus, "%s\t%s\n", id, texts[id])
	}
	corpusPath := write("corpus.tsv", corpus.String())
	queriesPath := write("queries.tsv", "q1\tthe city university\nq2\trailway work and trade\nq3\triver market\n")
	modelDir := filepath.Join(testModel, "bert")
	docVecs, qVecs := filepath.Join(dir, "passages.jsonl.gz"), filepath.Join(dir, "q.jsonl")
	const chunk, stride = 8, 5
	if err := runEncode([]string{"--model", modelDir, "--input", corpusPath, "--output", docVecs,
		"--chunk", strconv.Itoa(chunk), "--stride", strconv.Itoa(stride), "--batch-tokens", "40"}); err != nil {
		t.Fatal(err)
	}
	if err := runEncode([]string{"--model", modelDir, "--query", "--input", queriesPath, "--output", qVecs}); err != nil {
		t.Fatal(err)
	}

	// Every window, in order, encoded on its own.
	m, tok, err := model.LoadWithTokenizer(modelDir)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := model.NewEncoder(m, tok, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	passages := readVectors(t, docVecs)
	i := 0
	for _, doc := range order {
		windows, err := tok.EncodePassages(texts[doc], chunk, stride)
		if err != nil {
			t.Fatal(err)
		}
		if doc == "long" && len(windows) < 5 {
			t.Fatalf("the long text makes only %d passages", len(windows))
		}
		ws, err := enc.EncodeIDs(windows)
		if err != nil {
			t.Fatal(err)
		}
		for n, w := range ws {
			if i >= len(passages) {
				t.Fatalf("output ends before passage %d of %q", n, doc)
			}
			p := passages[i]
			if p.ID != sparse.PassageID(doc, n) || p.Doc != doc {
				t.Fatalf("record %d: id %q doc %q, want %q of %q", i, p.ID, p.Doc, sparse.PassageID(doc, n), doc)
			}
			if d := vectorDiff(p.Vector, enc.Vector(w)); d > 1e-5 {
				t.Fatalf("passage %s differs from its window encoded alone by %g", p.ID, d)
			}
			i++
		}
	}
	if i != len(passages) {
		t.Fatalf("%d records, %d passages", len(passages), i)
	}

	idx := filepath.Join(dir, "idx")
	if err := runIndex([]string{"--input", docVecs, "--output", idx, "--quantize", "f32"}); err != nil {
		t.Fatal(err)
	}
	queries := readVectors(t, qVecs)
	for _, mode := range []string{"exhaustive", "maxscore", "blockmax"} {
		run := filepath.Join(dir, mode+".trec")
		if err := runSearch([]string{"--index", idx, "--queries", qVecs, "--output", run, "--k", "3", "--mode", mode}); err != nil {
			t.Fatal(err)
		}
		got := readRun(t, run)
		for _, q := range queries {
			// brute force: best passage of each document
			best := map[string]float64{}
			for _, p := range passages {
				if s := sparse.Dot(q.Vector, p.Vector); s > 0 && s > best[p.Doc] {
					best[p.Doc] = s
				}
			}
			var want []string
			for d := range best {
				want = append(want, d)
			}
			slices.SortFunc(want, func(a, b string) int {
				if best[a] != best[b] {
					if best[a] > best[b] {
						return -1
					}
					return 1
				}
				return strings.Compare(a, b)
			})
			want = want[:min(3, len(want))]
			lines := got[q.ID]
			if len(lines) != len(want) {
				t.Fatalf("%s %s: %d results %v, want documents %v", mode, q.ID, len(lines), lines, want)
			}
			for r, l := range lines {
				if l.doc != want[r] || math.Abs(l.score-best[want[r]]) > 1e-5 {
					t.Fatalf("%s %s rank %d: %s %.6f, want %s %.6f", mode, q.ID, r+1, l.doc, l.score, want[r], best[want[r]])
				}
			}
		}
	}

	run := filepath.Join(dir, "passages.trec")
	if err := runSearch([]string{"--index", idx, "--queries", qVecs, "--output", run, "--k", "100", "--passages"}); err != nil {
		t.Fatal(err)
	}
	for qid, lines := range readRun(t, run) {
		ids := map[string]bool{}
		for _, l := range lines {
			ids[l.doc] = true
		}
		for _, p := range passages {
			q := queries[slices.IndexFunc(queries, func(r sparse.Record) bool { return r.ID == qid })]
			if matched := sparse.Dot(q.Vector, p.Vector) > 0; matched != ids[p.ID] {
				t.Fatalf("--passages %s: passage %s matched %v, listed %v", qid, p.ID, matched, ids[p.ID])
			}
		}
	}

	// Usage errors.
	for _, args := range [][]string{
		{"--chunk", "-1"},
		{"--stride", "4"},
		{"--chunk", "4", "--stride", "5"},
		{"--chunk", "4", "--query"},
		{"--chunk", "100", "--max-length", "64"},
		{"--chunk", "4000"}, // beyond the model's positions
	} {
		args = append(args, "--model", modelDir, "--input", corpusPath, "--output", filepath.Join(dir, "x.jsonl"))
		var ue usageError
		if err := runEncode(args); !errors.As(err, &ue) {
			t.Errorf("encode %q = %v, want a usage error", args, err)
		}
	}
}

// writeTestFile writes content to dir/name and returns the path.
func writeTestFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readVectors(t *testing.T, path string) []sparse.Record {
	t.Helper()
	r, err := sparse.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []sparse.Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
}

type runLine struct {
	doc   string
	score float64
}

func readRun(t *testing.T, path string) map[string][]runLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]runLine{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(l)
		if len(f) != 6 || f[3] != strconv.Itoa(len(out[f[0]])+1) {
			t.Fatalf("bad run line %q", l)
		}
		s, err := strconv.ParseFloat(f[4], 64)
		if err != nil {
			t.Fatal(err)
		}
		out[f[0]] = append(out[f[0]], runLine{f[2], s})
	}
	return out
}

// vectorDiff is the largest weight difference between two vectors.
func vectorDiff(a, b sparse.Vector) float64 {
	w := map[string]float64{}
	for i, t := range a.Terms {
		w[t] = float64(a.Weights[i])
	}
	d := 0.0
	for i, t := range b.Terms {
		d = max(d, math.Abs(w[t]-float64(b.Weights[i])))
		delete(w, t)
	}
	for _, v := range w {
		d = max(d, math.Abs(v))
	}
	return d
}
