package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBM25Command(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string { return writeTestFile(t, dir, name, content) }
	corpusPath := write("corpus.jsonl", `{"_id": "d1", "title": "Apples", "text": "Red apples and green apples."}
{"_id": "d2", "title": "", "text": "A green car."}
{"_id": "q2", "title": "Cars", "text": "Fast red cars."}
`)
	queriesPath := write("queries.tsv", "q1\tred apples\nq2\tgreen cars\n")
	qrelsPath := write("qrels.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\n")
	runPath, negPath := filepath.Join(dir, "run.trec"), filepath.Join(dir, "neg.tsv")

	err := runBM25([]string{"--corpus", corpusPath, "--queries", queriesPath, "--output", runPath,
		"--remove-query", "--tag", "t", "--qrels", qrelsPath, "--negatives", negPath, "--n", "5"})
	if err != nil {
		t.Fatal(err)
	}
	run, _ := os.ReadFile(runPath)
	lines := strings.Split(strings.TrimSpace(string(run)), "\n")
	// q1: d1 (red, apples x2), q2 (red); d2 matches neither. q2: d2 (green,
	// car), d1 (green); its own document removed.
	wantDocs := []string{"q1 Q0 d1 1 ", "q1 Q0 q2 2 ", "q2 Q0 d2 1 ", "q2 Q0 d1 2 "}
	if len(lines) != len(wantDocs) {
		t.Fatalf("run:\n%s", run)
	}
	for i, w := range wantDocs {
		if !strings.HasPrefix(lines[i], w) || !strings.HasSuffix(lines[i], " t") {
			t.Errorf("run line %d = %q, want %q... t", i, lines[i], w)
		}
	}
	neg, _ := os.ReadFile(negPath)
	if !strings.HasPrefix(string(neg), "q1\tq2\t2\t") || strings.Count(string(neg), "\n") != 1 {
		t.Errorf("negatives = %q, want only q1's second result q2", neg)
	}

	for _, args := range [][]string{
		{"--queries", queriesPath, "--output", runPath},
		{"--corpus", corpusPath, "--queries", queriesPath},
		{"--corpus", corpusPath, "--queries", queriesPath, "--negatives", negPath},
		{"--corpus", corpusPath, "--queries", queriesPath, "--output", runPath, "--k", "0"},
		{"--corpus", corpusPath, "--queries", queriesPath, "--output", runPath, "--b", "1.5"},
	} {
		var ue usageError
		if err := runBM25(args); !errors.As(err, &ue) {
			t.Errorf("runBM25(%q) = %v, want a usage error", args, err)
		}
	}
}
