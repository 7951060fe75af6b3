package eval

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FLOPS equals the mean number of shared non-zero terms over all
// query-document pairs. Here: docs d1{a,b} d2{a} (c has weight 0), queries
// q1{a} q2{b,c}; the pairs share 1,1,1,0 terms, so FLOPS = 3/4.
func TestVectorStats(t *testing.T) {
	dir := t.TempDir()
	docs := filepath.Join(dir, "docs.jsonl")
	queries := filepath.Join(dir, "queries.jsonl")
	write := func(p string, lines ...string) {
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(docs, `{"id":"d1","vector":{"a":1,"b":2}}`, `{"id":"d2","vector":{"a":0.5,"c":0}}`)
	write(queries, `{"id":"q1","vector":{"a":1}}`, `{"id":"q2","vector":{"b":1,"c":3}}`)
	s, err := VectorStats(docs, queries)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want float64
	}{
		{"docs", float64(s.Docs.N), 2},
		{"queries", float64(s.Queries.N), 2},
		{"doc mean nnz", s.Docs.MeanNNZ(), 1.5},
		{"doc min nnz", float64(s.Docs.MinNNZ), 1},
		{"doc max nnz", float64(s.Docs.MaxNNZ), 2},
		{"query mean nnz", s.Queries.MeanNNZ(), 1.5},
		{"FLOPS", s.FLOPS, 0.75},
	}
	for _, c := range checks {
		if !near(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	write(queries, `{"id":"q1","vector":{"a":1}}`, `{"id":"q2","vector":{"a":x}}`)
	if _, err := VectorStats(docs, queries); err == nil || !strings.Contains(err.Error(), "queries.jsonl:2") {
		t.Errorf("malformed query file: error %v, want it to name queries.jsonl:2", err)
	}
	write(queries, "")
	if _, err := VectorStats(docs, queries); err == nil {
		t.Error("no queries: want an error")
	}
}

func TestFLOPSTable(t *testing.T) {
	cases := []struct {
		q, d map[string]float64
		want float64
	}{
		{map[string]float64{}, map[string]float64{"a": 1}, 0},
		{map[string]float64{"a": 1}, map[string]float64{"a": 1}, 1},
		{map[string]float64{"a": 0.5, "b": 0.2}, map[string]float64{"a": 0.1, "c": 1}, 0.05},
		{map[string]float64{"a": 0.5, "b": 0.2, "c": 1, "d": 1}, map[string]float64{"b": 0.5}, 0.1}, // larger q
	}
	for _, c := range cases {
		if got := FLOPS(c.q, c.d); !near(got, c.want) {
			t.Errorf("FLOPS(%v, %v) = %v, want %v", c.q, c.d, got, c.want)
		}
	}
}
