package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSeismicCommands: splade index --seismic adds the structure (with
// --input, or to an existing index without it), splade search --mode
// seismic uses it, and both fail clearly without an index or structure.
func TestSeismicCommands(t *testing.T) {
	dir := t.TempDir()
	docs, queries := filepath.Join(dir, "d.jsonl"), filepath.Join(dir, "q.jsonl")
	if code, _, stderr := splade(t, nil, "synth", "--docs", "3000", "--queries", "20", "--output-docs", docs, "--output-queries", queries); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, stderr)
	}
	plain, idx := filepath.Join(dir, "plain"), filepath.Join(dir, "idx")
	if code, _, stderr := splade(t, nil, "index", "--input", docs, "--output", plain); code != 0 {
		t.Fatalf("index: exit %d: %s", code, stderr)
	}
	run := filepath.Join(dir, "run.trec")
	code, _, stderr := splade(t, nil, "search", "--index", plain, "--queries", queries, "--mode", "seismic", "--output", run)
	if code != 1 || !strings.Contains(stderr, "splade index --output DIR --seismic") {
		t.Fatalf("seismic search without the structure: exit %d, %q", code, stderr)
	}
	if code, _, stderr := splade(t, nil, "index", "--output", filepath.Join(dir, "none"), "--seismic"); code != 1 || !strings.Contains(stderr, "no index here") {
		t.Fatalf("--seismic without an index: exit %d, %q", code, stderr)
	}
	code, stdout, stderr := splade(t, nil, "index", "--input", docs, "--output", idx, "--seismic", "--seismic-lambda", "3000", "--seismic-mass", "1", "--seismic-cluster")
	if code != 0 || !strings.Contains(stdout, "seismic_blocks") || !strings.Contains(stdout, "mass 1, cluster true") {
		t.Fatalf("index --seismic: exit %d: %s%s", code, stdout, stderr)
	}
	// every posting kept and whole summaries (clustered blocks): heap factor 1 with every
	// query term is exact, so the run equals exhaustive search's
	exact := filepath.Join(dir, "exact.trec")
	for _, args := range [][]string{
		{"--mode", "exhaustive", "--output", exact},
		{"--mode", "seismic", "--heap-factor", "1", "--query-cut", "1", "--output", run},
	} {
		if code, _, stderr := splade(t, nil, append([]string{"search", "--index", idx, "--queries", queries, "--k", "10"}, args...)...); code != 0 {
			t.Fatalf("search %v: exit %d: %s", args, code, stderr)
		}
	}
	a, _ := os.ReadFile(exact)
	b, _ := os.ReadFile(run)
	if len(a) == 0 || string(a) != string(b) {
		t.Fatalf("seismic run differs from exhaustive:\n%s\n---\n%s", a, b)
	}
	// added afterwards, with the default options
	code, stdout, stderr = splade(t, nil, "index", "--output", plain, "--seismic")
	if code != 0 || !strings.Contains(stdout, "seismic_kept_postings") {
		t.Fatalf("adding --seismic: exit %d: %s%s", code, stdout, stderr)
	}
	if code, _, stderr := splade(t, nil, "search", "--index", plain, "--queries", queries, "--mode", "seismic", "--k", "10", "--output", run); code != 0 {
		t.Fatalf("seismic search: exit %d: %s", code, stderr)
	}
	if code, _, stderr := splade(t, nil, "search", "--index", plain, "--queries", queries, "--mode", "seismic", "--heap-factor", "0", "--output", run); code != 2 || !strings.Contains(stderr, "--heap-factor") {
		t.Fatalf("--heap-factor 0: exit %d, %q", code, stderr)
	}
}
