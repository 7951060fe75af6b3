package model

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/splade-go/splade/kernels"
)

// golden is model/testdata/golden.json, written by
// scripts/reference/make_golden.py from an independent PyTorch forward pass
// (padded batches with an attention mask, float64).
type golden struct {
	Threshold float64                                    `json:"threshold"`
	MaxLength int                                        `json:"max_length"`
	Texts     []string                                   `json:"texts"`
	InputIDs  [][]int32                                  `json:"input_ids"`
	Models    map[string]map[string][]map[string]float64 `json:"models"`
}

// tolerance is the largest accepted difference from the reference per
// weight.
const tolerance = 1e-4

func readGolden(t *testing.T) *golden {
	t.Helper()
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Texts) == 0 || len(g.Texts) != len(g.InputIDs) {
		t.Fatalf("golden.json: %d texts, %d id lists", len(g.Texts), len(g.InputIDs))
	}
	return &g
}

var poolings = map[string]kernels.Pooling{"max": kernels.PoolMax, "sum": kernels.PoolSum}

// compareGolden checks one encoded batch against the reference vectors.
func compareGolden(t *testing.T, g *golden, want []map[string]float64, got []Weights) {
	t.Helper()
	var overall float64
	defer func() { t.Logf("largest difference from the reference: %.2g", overall) }()
	for s, w := range want {
		ref := make(map[int32]float64, len(w))
		for k, v := range w {
			id, err := strconv.Atoi(k)
			if err != nil {
				t.Fatal(err)
			}
			ref[int32(id)] = v
		}
		have := make(map[int32]float64, len(got[s].IDs))
		for i, id := range got[s].IDs {
			have[id] = float64(got[s].Values[i])
		}
		worst, worstID := 0.0, int32(-1)
		for id := range union(ref, have) {
			if d := math.Abs(ref[id] - have[id]); d > worst {
				worst, worstID = d, id
			}
			if (ref[id] > g.Threshold) != (have[id] > g.Threshold) {
				t.Errorf("text %d, term %d: reference %g, got %g: not on the same side of %g", s, id, ref[id], have[id], g.Threshold)
			}
		}
		overall = max(overall, worst)
		if worst > tolerance {
			t.Errorf("text %d: term %d differs by %g (reference %g, got %g), tolerance %g", s, worstID, worst, ref[worstID], have[worstID], tolerance)
		}
	}
}

func union(a, b map[int32]float64) map[int32]bool {
	u := make(map[int32]bool, len(a)+len(b))
	for k := range a {
		u[k] = true
	}
	for k := range b {
		u[k] = true
	}
	return u
}

// TestGolden is the acceptance test: both architectures, both weight
// formats, both poolings, every kernel path, against PyTorch.
func TestGolden(t *testing.T) {
	g := readGolden(t)
	defer kernels.SetPath(kernels.Path())
	for _, arch := range []string{"bert", "distilbert"} {
		for _, file := range WeightFiles {
			dir := filepath.Join("testdata", arch)
			m, err := LoadFiles(filepath.Join(dir, "config.json"), filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			for _, path := range kernels.Paths() {
				if err := kernels.SetPath(path); err != nil {
					t.Fatal(err)
				}
				for pname, pooling := range poolings {
					for _, batchTokens := range []int{0, 50} { // 50: split into several passes
						t.Run(arch+"/"+file+"/"+path+"/"+pname+"/"+strconv.Itoa(batchTokens), func(t *testing.T) {
							e, err := NewEncoder(m, nil, Options{Pooling: pooling, Threads: 2, MaxLength: g.MaxLength, BatchTokens: batchTokens})
							if err != nil {
								t.Fatal(err)
							}
							got, err := e.EncodeIDs(g.InputIDs)
							if err != nil {
								t.Fatal(err)
							}
							compareGolden(t, g, g.Models[arch][pname], got)
						})
					}
				}
			}
		}
	}
}

// TestGoldenText runs the whole path from text: the tokenizer loaded from
// the model directory must give the reference ids, and Encode the
// reference vectors.
func TestGoldenText(t *testing.T) {
	g := readGolden(t)
	for _, arch := range []string{"bert", "distilbert"} {
		dir := filepath.Join("testdata", arch)
		m, tok, err := LoadWithTokenizer(dir)
		if err != nil {
			t.Fatal(err)
		}
		for i, text := range g.Texts {
			if ids := tok.Encode(text, g.MaxLength); !slices.Equal(ids, g.InputIDs[i]) {
				t.Errorf("%s: Encode(%q) = %v, reference %v", arch, text, ids, g.InputIDs[i])
			}
		}
		e, err := NewEncoder(m, tok, Options{MaxLength: g.MaxLength, Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		vecs, err := e.Encode(g.Texts)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]Weights, len(vecs))
		for s, v := range vecs {
			for i, term := range v.Terms {
				id, ok := tok.ID(term)
				if !ok {
					t.Fatalf("term %q not in the vocabulary", term)
				}
				if i > 0 && v.Weights[i] > v.Weights[i-1] {
					t.Errorf("%s text %d: terms not by decreasing weight", arch, s)
				}
				got[s].IDs = append(got[s].IDs, id)
				got[s].Values = append(got[s].Values, v.Weights[i])
			}
		}
		compareGolden(t, g, g.Models[arch]["max"], got)
	}
}
