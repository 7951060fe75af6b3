package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splade-go/splade/index"
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
	// a graph of neighbours, added with the structure; search uses it
	// unless told not to, and both runs hold every query's k documents
	code, stdout, stderr = splade(t, nil, "index", "--output", plain, "--seismic", "--seismic-neighbors", "4")
	if code != 0 || !strings.Contains(stdout, "neighbors 4") || !strings.Contains(stdout, "seismic_neighbors_seconds") {
		t.Fatalf("--seismic-neighbors 4: exit %d: %s%s", code, stdout, stderr)
	}
	ix, err := index.Open(plain)
	if err != nil {
		t.Fatal(err)
	}
	sm, err := ix.Seismic()
	if err != nil || sm.NeighborsPerDoc() != 4 {
		t.Fatalf("structure written: %v, %d neighbours per document", err, sm.NeighborsPerDoc())
	}
	ix.Close()
	for _, nb := range []string{"0", "-1", "2"} {
		if code, _, stderr := splade(t, nil, "search", "--index", plain, "--queries", queries, "--mode", "seismic", "--k", "10", "--neighbors", nb, "--output", run); code != 0 {
			t.Fatalf("--neighbors %s: exit %d: %s", nb, code, stderr)
		}
		b, _ := os.ReadFile(run)
		if n := strings.Count(string(b), "\n"); n != 20*10 {
			t.Fatalf("--neighbors %s: %d run lines, want 200", nb, n)
		}
	}
	if code, _, stderr := splade(t, nil, "search", "--index", plain, "--queries", queries, "--mode", "seismic", "--neighbors", "-2", "--output", run); code != 2 || !strings.Contains(stderr, "--neighbors") {
		t.Fatalf("--neighbors -2: exit %d, %q", code, stderr)
	}
	if code, _, stderr := splade(t, nil, "index", "--output", plain, "--seismic", "--seismic-neighbors", "256"); code != 2 || !strings.Contains(stderr, "--seismic-neighbors") {
		t.Fatalf("--seismic-neighbors 256: exit %d, %q", code, stderr)
	}
	if code, _, stderr := splade(t, nil, "index", "--input", docs, "--output", filepath.Join(dir, "nograph"), "--seismic-neighbors", "4"); code != 2 || !strings.Contains(stderr, "give --seismic") {
		t.Fatalf("--seismic-neighbors without --seismic: exit %d, %q", code, stderr)
	}
}

// TestSeismicTune: splade index --seismic --seismic-tune tries summary
// masses from --seismic-mass up and keeps the first whose recall@10 on the
// queries reaches --seismic-recall (the structure written has it), or the
// best with a warning when none does; its flags are checked.
func TestSeismicTune(t *testing.T) {
	dir := t.TempDir()
	docs, queries := filepath.Join(dir, "d.jsonl"), filepath.Join(dir, "q.jsonl")
	if code, _, stderr := splade(t, nil, "synth", "--docs", "3000", "--queries", "40", "--output-docs", docs, "--output-queries", queries); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, stderr)
	}
	idx := filepath.Join(dir, "idx")
	if code, _, stderr := splade(t, nil, "index", "--input", docs, "--output", idx); code != 0 {
		t.Fatalf("index: exit %d: %s", code, stderr)
	}
	// trials parses the seismic_tune lines: masses and recalls
	trials := func(stdout string) (masses, recalls []float64) {
		for _, line := range strings.Split(stdout, "\n") {
			var m, r, ms float64
			var bytes int64
			if _, err := fmt.Sscanf(line, "seismic_tune\tmass %g\trecall@10 %g\tms_per_query %g\tbytes %d", &m, &r, &ms, &bytes); err == nil {
				masses, recalls = append(masses, m), append(recalls, r)
			}
		}
		return masses, recalls
	}
	tune := []string{"index", "--output", idx, "--seismic", "--seismic-lambda", "20", "--seismic-mass", "0.1", "--seismic-tune", queries, "--seismic-tune-queries", "30"}
	code, stdout, stderr := splade(t, nil, append(tune, "--seismic-recall", "1")...)
	if code != 0 {
		t.Fatalf("--seismic-tune: exit %d: %s", code, stderr)
	}
	masses, recalls := trials(stdout)
	if len(masses) < 2 || masses[0] != 0.1 || masses[1] != 0.4 {
		t.Fatalf("masses tried %v: want 0.1, then the defaults from 0.4 up", masses)
	}
	best, bestMass := -1.0, 0.0
	for i, r := range recalls {
		if r >= best {
			best, bestMass = r, masses[i]
		}
	}
	if best == 1 {
		t.Fatalf("recall 1 reached at mass %g: want a case no mass reaches (lower the lambda)", bestMass)
	}
	if len(masses) != 8 || !strings.Contains(stderr, "kept the summary mass of best recall") || !strings.Contains(stderr, "on 30 queries") {
		t.Fatalf("unreachable recall 1: %d masses tried, stderr %q", len(masses), stderr)
	}
	checkMass := func(want float64) {
		t.Helper()
		ix, err := index.Open(idx)
		if err != nil {
			t.Fatal(err)
		}
		defer ix.Close()
		sm, err := ix.Seismic()
		if err != nil || sm.Options.SummaryMass != want || sm.Options.Lambda != 20 {
			t.Fatalf("seismic.bin: %v, options %+v; want mass %g, lambda 20", err, sm.Options, want)
		}
	}
	checkMass(bestMass)
	// a target reached after the first mass: the first mass reaching it is kept
	target := recalls[len(recalls)-1] - 1e-4 // below it: the recalls printed are rounded
	code, stdout, stderr = splade(t, nil, append(tune, "--seismic-recall", fmt.Sprint(target))...)
	if code != 0 || strings.Contains(stderr, "kept the summary mass of best recall") {
		t.Fatalf("--seismic-recall %g: exit %d: %s", target, code, stderr)
	}
	masses, recalls = trials(stdout)
	last := len(recalls) - 1
	if last < 0 || recalls[last] < target {
		t.Fatalf("--seismic-recall %g: trials %v %v", target, masses, recalls)
	}
	for _, r := range recalls[:last] {
		if r >= target {
			t.Fatalf("--seismic-recall %g: went on after reaching it: %v", target, recalls)
		}
	}
	checkMass(masses[last])
	if code, _, _ := splade(t, nil, "search", "--index", idx, "--queries", queries, "--mode", "seismic", "--output", filepath.Join(dir, "r.trec")); code != 0 {
		t.Fatal("search on the tuned structure failed")
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--output", idx, "--seismic-tune", queries}, 2, "give --seismic"},
		{[]string{"--output", idx, "--seismic", "--seismic-recall", "0.9"}, 2, "go with --seismic-tune"},
		{[]string{"--output", idx, "--seismic", "--seismic-tune", queries, "--seismic-recall", "1.5"}, 2, "--seismic-recall must be in (0, 1]"},
		{[]string{"--output", idx, "--seismic", "--seismic-tune", queries, "--seismic-tune-queries", "0"}, 2, "--seismic-tune-queries >= 1"},
		{[]string{"--output", idx, "--seismic", "--seismic-tune", filepath.Join(dir, "missing.jsonl")}, 1, "missing.jsonl"},
	} {
		if code, _, stderr := splade(t, nil, append([]string{"index"}, tc.args...)...); code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, %q; want exit %d with %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

// TestSearchWarmViews: splade search builds the bound views before a batch
// of warmMinQueries queries or more in blockmax and approx modes (logged),
// not with --warm-views=false nor for a smaller batch, with the same run
// each way, equal to exhaustive search's.
func TestSearchWarmViews(t *testing.T) {
	dir := t.TempDir()
	docs, queries, few := filepath.Join(dir, "d.jsonl"), filepath.Join(dir, "q.jsonl"), filepath.Join(dir, "few.jsonl")
	if code, _, stderr := splade(t, nil, "synth", "--docs", "2000", "--queries", fmt.Sprint(warmMinQueries), "--output-docs", docs, "--output-queries", queries); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, stderr)
	}
	if code, _, stderr := splade(t, nil, "synth", "--docs", "2000", "--queries", "5", "--output-docs", filepath.Join(dir, "d5.jsonl"), "--output-queries", few); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, stderr)
	}
	idx := filepath.Join(dir, "idx")
	if code, _, stderr := splade(t, nil, "index", "--input", docs, "--output", idx); code != 0 {
		t.Fatalf("index: exit %d: %s", code, stderr)
	}
	runs := map[string]string{}
	for _, tc := range []struct {
		name, q string
		args    []string
		warmed  bool
	}{
		{"exhaustive", queries, []string{"--mode", "exhaustive"}, false},
		{"blockmax", queries, []string{"--mode", "blockmax"}, true},
		{"blockmax-cold", queries, []string{"--mode", "blockmax", "--warm-views=false"}, false},
		{"approx", queries, []string{"--mode", "approx"}, true},
		{"few", few, []string{"--mode", "blockmax"}, false},
	} {
		run := filepath.Join(dir, tc.name+".trec")
		code, _, stderr := splade(t, nil, append([]string{"search", "--index", idx, "--queries", tc.q, "--k", "10", "--output", run}, tc.args...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.name, code, stderr)
		}
		if got := strings.Contains(stderr, "bound views built"); got != tc.warmed {
			t.Errorf("%s: views warmed %v, want %v:\n%s", tc.name, got, tc.warmed, stderr)
		}
		b, _ := os.ReadFile(run)
		runs[tc.name] = string(b)
	}
	if runs["exhaustive"] == "" || runs["blockmax"] != runs["exhaustive"] || runs["blockmax-cold"] != runs["exhaustive"] {
		t.Fatal("block-max runs differ from exhaustive search's")
	}
}
