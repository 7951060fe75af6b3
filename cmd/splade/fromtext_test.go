package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/tokenize"
)

// TestIndexAndSearchFromText: splade index --model and splade search
// --model give the index and the run of the two-step path (splade encode,
// then index and search the vectors), and the index records the model's
// vocabulary fingerprint; with passages (--chunk) too. Queries encoded with
// another vocabulary are refused; bad input names the file and line.
func TestIndexAndSearchFromText(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string { return writeTestFile(t, dir, name, content) }
	corpusPath := write("corpus.jsonl", `{"_id": "cat", "title": "Cats", "text": "cats are small domesticated animals that purr and hunt mice in the house."}
{"_id": "dog", "title": "Dogs", "text": "dogs are loyal animals that bark, guard the house and love to run."}
{"_id": "car", "title": "Cars", "text": "a car has four wheels, an engine and seats; it runs on roads."}
{"_id": "river", "title": "", "text": "the river runs through the old city past the market and the school."}
`)
	queriesPath := write("queries.tsv", "q1\twhich animal purrs\nq2\tan engine on four wheels\nq3\tthe old market by the river\nq4\thouse animals\n")
	modelDir := filepath.Join(testModel, "bert")
	tok, err := tokenize.Load(modelDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, passages := range [][]string{nil, {"--chunk", "6", "--stride", "4"}} {
		name := "whole"
		if passages != nil {
			name = "passages"
		}
		t.Run(name, func(t *testing.T) {
			sub := filepath.Join(dir, name)
			docVecs, qVecs := filepath.Join(sub, "docs.jsonl"), filepath.Join(sub, "q.jsonl")
			idxVec, idxText := filepath.Join(sub, "idx-vectors"), filepath.Join(sub, "idx-text")
			runVec, runText := filepath.Join(sub, "vectors.trec"), filepath.Join(sub, "text.trec")
			os.MkdirAll(sub, 0o755)
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(runEncode(append([]string{"--model", modelDir, "--input", corpusPath, "--output", docVecs, "--batch-tokens", "30"}, passages...)))
			must(runEncode([]string{"--model", modelDir, "--query", "--input", queriesPath, "--output", qVecs}))
			must(runIndex([]string{"--input", docVecs, "--output", idxVec, "--fingerprint", tok.Fingerprint()}))
			must(runSearch([]string{"--index", idxVec, "--queries", qVecs, "--k", "10", "--output", runVec}))

			must(runIndex(append([]string{"--model", modelDir, "--input", corpusPath, "--output", idxText, "--batch-tokens", "30"}, passages...)))
			must(runSearch([]string{"--index", idxText, "--model", modelDir, "--queries", queriesPath, "--k", "10", "--output", runText}))

			want, err := os.ReadFile(runVec)
			must(err)
			got, err := os.ReadFile(runText)
			must(err)
			if len(strings.Split(strings.TrimSpace(string(want)), "\n")) < 4 {
				t.Fatalf("the two-step run is too short to compare:\n%s", want)
			}
			if string(got) != string(want) {
				t.Errorf("run from text:\n%s\nrun from vectors:\n%s", got, want)
			}
			ix, err := index.Open(idxText)
			must(err)
			defer ix.Close()
			if ix.Meta.Fingerprint != tok.Fingerprint() {
				t.Errorf("index fingerprint %q, want the model's %q", ix.Meta.Fingerprint, tok.Fingerprint())
			}
			if passages != nil && ix.NumDocs() <= 4 {
				t.Errorf("the passage index holds %d passages for 4 documents", ix.NumDocs())
			}
		})
	}

	// Queries of another vocabulary (the embedded default model's) are
	// refused by an index that records its fingerprint.
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	err = runSearch([]string{"--index", filepath.Join(dir, "whole", "idx-text"), "--model", "default", "--queries", queriesPath, "--output", filepath.Join(dir, "x.trec")})
	if err == nil || !strings.Contains(err.Error(), "differs from the index's") {
		t.Errorf("queries of another vocabulary: %v", err)
	}

	bad := write("bad.tsv", "d1\tfine\nno tab here\n")
	dup := write("dup.tsv", "d1\tfine\nd2\tfine too\nd1\tagain\n")
	tests := []struct {
		name  string
		run   func([]string) error
		args  []string
		usage bool
		want  string
	}{
		{"index: bad line", runIndex, []string{"--model", modelDir, "--input", bad, "--output", filepath.Join(dir, "bad-idx")}, false, bad + ":2:"},
		{"index: --model without --input", runIndex, []string{"--model", modelDir, "--output", filepath.Join(dir, "whole", "idx-text"), "--seismic"}, true, "--input"},
		{"index: other fingerprint", runIndex, []string{"--model", modelDir, "--input", corpusPath, "--output", filepath.Join(dir, "fp-idx"), "--fingerprint", "abc"}, true, `"abc" differs`},
		{"index: duplicate id", runIndex, []string{"--model", modelDir, "--input", dup, "--output", filepath.Join(dir, "bad-idx")}, false, dup + `:3: duplicate id "d1"`},
		{"search: duplicate id", runSearch, []string{"--index", filepath.Join(dir, "whole", "idx-text"), "--model", modelDir, "--queries", dup, "--output", filepath.Join(dir, "y.trec")}, false, dup + `:3: duplicate id "d1"`},
		{"search: bad line", runSearch, []string{"--index", filepath.Join(dir, "whole", "idx-text"), "--model", modelDir, "--queries", bad, "--output", filepath.Join(dir, "y.trec")}, false, bad + ":2:"},
		{"search: chunk", runSearch, []string{"--index", filepath.Join(dir, "whole", "idx-text"), "--model", modelDir, "--queries", queriesPath, "--output", filepath.Join(dir, "z.trec"), "--chunk", "4"}, true, "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run(tc.args)
			var ue usageError
			if err == nil || errors.As(err, &ue) != tc.usage || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v (usage %v), want one containing %q (usage %v)", err, errors.As(err, &ue), tc.want, tc.usage)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "bad-idx", "CURRENT")); err == nil {
		t.Error("a failed build left an index behind")
	}
}
