package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/splade-go/splade/index"
)

// TestIndexImpactLevels: splade index --impact-levels 31 writes an index of
// 31 levels, says so, and takes fewer bits per posting than 255 levels.
func TestIndexImpactLevels(t *testing.T) {
	dir := t.TempDir()
	docs := filepath.Join(dir, "d.jsonl")
	if code, _, stderr := splade(t, nil, "synth", "--docs", "2000", "--queries", "1", "--output-docs", docs, "--output-queries", filepath.Join(dir, "q.jsonl")); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, stderr)
	}
	bpp := map[int]float64{}
	for _, levels := range []int{255, 31} {
		out := filepath.Join(dir, "idx", strconv.Itoa(levels))
		code, stdout, stderr := splade(t, nil, "index", "--input", docs, "--output", out, "--impact-levels", strconv.Itoa(levels))
		if code != 0 {
			t.Fatalf("index --impact-levels %d: exit %d: %s", levels, code, stderr)
		}
		if want := "impact_levels\t" + strconv.Itoa(levels) + "\n"; !strings.Contains(stdout, want) {
			t.Fatalf("index --impact-levels %d: output lacks %q:\n%s", levels, want, stdout)
		}
		ix, err := index.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		if ix.ImpactLevels() != levels || ix.Scale() != ix.Meta.MaxWeight/float64(levels) {
			t.Fatalf("index --impact-levels %d: opened with %d levels, scale %v for max weight %v", levels, ix.ImpactLevels(), ix.Scale(), ix.Meta.MaxWeight)
		}
		ix.Close()
		for _, l := range strings.Split(stdout, "\n") {
			if f := strings.Split(l, "\t"); f[0] == "bits_per_posting" && len(f) > 1 {
				if bpp[levels], err = strconv.ParseFloat(f[1], 64); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// impacts three bits narrower: about 2.5-3 bits a posting less
	if !(bpp[31] > 0 && bpp[31] < bpp[255]-2) {
		t.Fatalf("bits per posting: %v with 31 levels, %v with 255", bpp[31], bpp[255])
	}
}
