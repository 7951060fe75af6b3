package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/splade-go/splade/sparse"
	"github.com/splade-go/splade/synth"
)

// TestBenchSearch runs bench-search on a small synthetic collection, then
// on that index as a user's own with its queries as a vector file: every
// mode gets a row per thread count, the exact modes with recall 1, and the
// two give the same exhaustive results (recall of the same queries).
func TestBenchSearch(t *testing.T) {
	dir := t.TempDir()
	idx := filepath.Join(dir, "idx")
	row := regexp.MustCompile(`(?m)^(\S+)\s+(\d+)\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+([0-9.]+)$`)
	check := func(out string, modes ...string) {
		t.Helper()
		got := map[string]string{}
		for _, m := range row.FindAllStringSubmatch(out, -1) {
			got[m[1]+"/"+m[2]] = m[3]
		}
		for _, mode := range modes {
			for _, th := range []string{"1", "2"} {
				r, ok := got[mode+"/"+th]
				if !ok {
					t.Errorf("no row for %s with %s threads in:\n%s", mode, th, out)
					continue
				}
				if !strings.Contains(mode, "(") && r != "1.0000" { // an exact mode
					t.Errorf("%s, %s threads: recall %s, want 1.0000", mode, th, r)
				}
			}
		}
	}
	code, out, errOut := splade(t, nil, "bench-search", "--docs", "2000", "--queries", "20", "--dir", idx, "--rounds", "1",
		"--modes", "maxscore,blockmax,approx,seismic", "--alphas", "0.9", "--query-cuts", "0.7", "--threads", "1,2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	check(out, "exhaustive", "maxscore", "blockmax", "approx(a=0.9,cut=0.7)", "seismic(hf=0.9,cut=0.7)")

	// The same index and queries, given as a user's own.
	g := synth.New(synth.Options{Docs: 2000, Queries: 20, Seed: 1})
	qpath := filepath.Join(dir, "q.jsonl")
	f, err := os.Create(qpath)
	if err != nil {
		t.Fatal(err)
	}
	w := sparse.NewWriter(f)
	for i := 0; i < 20; i++ {
		if err := w.Write(g.Query(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	code, out, errOut = splade(t, nil, "bench-search", "--index", idx, "--query-vectors", qpath, "--rounds", "1",
		"--modes", "blockmax,seismic", "--query-cuts", "0.7", "--threads", "1,2", "--warm-views")
	if code != 0 {
		t.Fatalf("own index: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "collection\tindex "+idx+": 2000 docs") || !strings.Contains(out, "reused: lambda") {
		t.Errorf("own index: no collection line or the index's Seismic structure not used:\n%s", out)
	}
	check(out, "exhaustive", "blockmax", "seismic(hf=0.9,cut=0.7)")
	if !strings.Contains(out, "bound_views_mib\t") {
		t.Errorf("own index: no bound_views_mib line:\n%s", out)
	}
	if !regexp.MustCompile(`bound_views_warm_seconds\t[0-9.]+\t\([1-9][0-9]* terms, 0 refused`).MatchString(out) {
		t.Errorf("own index, --warm-views: no bound_views_warm_seconds line with the terms warmed:\n%s", out)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--index", idx}, 2, "go together"},
		{[]string{"--index", idx, "--query-vectors", qpath, "--reuse"}, 2, "synthetic collections"},
		{[]string{"--index", idx, "--query-vectors", filepath.Join(dir, "missing.jsonl")}, 1, "missing.jsonl"},
		{[]string{"--index", idx, "--query-vectors", qpath, "--switch-fraction", "0"}, 2, "--switch-fraction must be > 0"},
		{[]string{"--index", idx, "--query-vectors", qpath, "--view-density", "-1"}, 2, "--view-density and --view-budget must be >= 0"},
	} {
		code, _, errOut := splade(t, nil, append([]string{"bench-search", "--rounds", "1"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, %q; want exit %d with %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	seismicBin := filepath.Join(idx, "gen-000001", "seismic.bin")
	if err := os.Remove(seismicBin); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := splade(t, nil, "bench-search", "--index", idx, "--query-vectors", qpath, "--rounds", "1", "--modes", "seismic"); code != 1 || !strings.Contains(errOut, "no Seismic structure") {
		t.Errorf("seismic mode without the structure: exit %d, %q", code, errOut)
	}
	// Seismic options build a structure in memory for the run; the index
	// is left as it was.
	code, out, errOut = splade(t, nil, "bench-search", "--index", idx, "--query-vectors", qpath, "--rounds", "1", "--modes", "seismic",
		"--seismic-mass", "0.6", "--query-cuts", "0.7", "--threads", "1,2")
	if code != 0 {
		t.Fatalf("in-memory structure: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "built in memory, not written: lambda 40, block 8, mass 0.6") {
		t.Errorf("in-memory structure not reported:\n%s", out)
	}
	check(out, "exhaustive", "seismic(hf=0.9,cut=0.7)")
	if _, err := os.Stat(seismicBin); err == nil {
		t.Error("bench-search wrote seismic.bin into the index")
	}
	// with a graph, in memory too: a row per neighbour count
	code, out, errOut = splade(t, nil, "bench-search", "--index", idx, "--query-vectors", qpath, "--rounds", "1", "--modes", "seismic",
		"--seismic-neighbors", "3", "--neighbors", "0,-1", "--query-cuts", "0.7", "--threads", "1,2")
	if code != 0 {
		t.Fatalf("graph: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "seismic_neighbors_seconds") || !strings.Contains(out, "neighbors 3)") || !strings.Contains(out, "resolve_us") {
		t.Errorf("graph build, structure or resolve cost not reported:\n%s", out)
	}
	check(out, "exhaustive", "seismic(hf=0.9,cut=0.7,nb=3)", "seismic(hf=0.9,cut=0.7,nb=0)")
	if _, err := os.Stat(seismicBin); err == nil {
		t.Error("bench-search wrote seismic.bin into the index")
	}
}
