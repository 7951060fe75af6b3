package model

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func sameBits(a, b []float32) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		// Unpacking turns -0 into +0 (see Tensors).
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) && !(a[i] == 0 && b[i] == 0) {
			return i
		}
	}
	return -1
}

// TestSaveRoundTrip: Tensors -> SaveDir -> Load gives back the same
// weights bit for bit, for both architectures, tied and untied.
func TestSaveRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"bert", Config{Arch: BERT, Hidden: 16, Layers: 2, Heads: 2, Intermediate: 24, Vocab: 50, MaxPositions: 20, TypeVocab: 2, LayerNormEps: 1e-12, TiedDecoder: true}},
		{"bert-untied", Config{Arch: BERT, Hidden: 8, Layers: 1, Heads: 2, Intermediate: 12, Vocab: 40, MaxPositions: 10, TypeVocab: 3, LayerNormEps: 1e-5}},
		{"distilbert", Config{Arch: DistilBERT, Hidden: 16, Layers: 2, Heads: 4, Intermediate: 32, Vocab: 45, MaxPositions: 12, LayerNormEps: 1e-12, TiedDecoder: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewRandom(tc.cfg, 7)
			if err != nil {
				t.Fatal(err)
			}
			ts := m.Tensors()
			vocab := make([]string, tc.cfg.Vocab)
			for i := range vocab {
				vocab[i] = string(rune('a'+i%26)) + string(rune('a'+i/26))
			}
			copy(vocab, []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"})
			dir := filepath.Join(t.TempDir(), "ck")
			if err := SaveDir(dir, tc.cfg, ts, vocab); err != nil {
				t.Fatal(err)
			}
			m2, tok, err := LoadWithTokenizer(dir)
			if err != nil {
				t.Fatal(err)
			}
			if m2.Config != tc.cfg {
				t.Fatalf("config %+v, want %+v", m2.Config, tc.cfg)
			}
			if tok.VocabSize() != len(vocab) {
				t.Fatalf("vocab %d", tok.VocabSize())
			}
			ts2 := m2.Tensors()
			stored, err := ReadSafetensors(filepath.Join(dir, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			if len(stored) != len(ts) {
				t.Fatalf("%d stored tensors, want %d", len(stored), len(ts))
			}
			for i := range ts {
				if ts2[i].Name != ts[i].Name || !sameShape(ts2[i].Shape, ts[i].Shape) {
					t.Fatalf("tensor %d: %s %v, want %s %v", i, ts2[i].Name, ts2[i].Shape, ts[i].Name, ts[i].Shape)
				}
				if k := sameBits(ts[i].Data, ts2[i].Data); k >= 0 {
					t.Fatalf("%s differs at %d", ts[i].Name, k)
				}
			}
			// FromTensors rebuilds the same model.
			m3, err := FromTensors(tc.cfg, ts)
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range m3.Tensors() {
				if k := sameBits(ts[i].Data, x.Data); k >= 0 {
					t.Fatalf("FromTensors: %s differs at %d", x.Name, k)
				}
			}
		})
	}
}

// TestTensorsMatchCheckpoint: the exported tensors of the test checkpoints
// are exactly the stored ones.
func TestTensorsMatchCheckpoint(t *testing.T) {
	for _, arch := range []string{"bert", "distilbert"} {
		m, err := Load(filepath.Join("testdata", arch))
		if err != nil {
			t.Fatal(err)
		}
		stored, err := ReadSafetensors(filepath.Join("testdata", arch, "model.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string][]float32{}
		for _, s := range stored {
			byName[s.Name] = s.Data
		}
		for _, x := range m.Tensors() {
			want, ok := byName[x.Name]
			if !ok {
				t.Fatalf("%s: %s not in the checkpoint", arch, x.Name)
			}
			if k := sameBits(want, x.Data); k >= 0 {
				t.Fatalf("%s: %s differs at %d", arch, x.Name, k)
			}
		}
	}
}

func TestFromTensorsErrors(t *testing.T) {
	cfg := Config{Arch: DistilBERT, Hidden: 8, Layers: 1, Heads: 2, Intermediate: 8, Vocab: 10, MaxPositions: 8, LayerNormEps: 1e-12, TiedDecoder: true}
	m, _ := NewRandom(cfg, 1)
	ts := m.Tensors()
	if _, err := FromTensors(cfg, ts[1:]); err == nil {
		t.Error("missing tensor accepted")
	}
	ts[2].Shape = []int{4}
	if _, err := FromTensors(cfg, ts); err == nil {
		t.Error("wrong shape accepted")
	}
	if err := SaveDir(t.TempDir(), cfg, ts[1:], nil); err == nil {
		t.Error("SaveDir accepted a missing tensor")
	}
}

// TestConfigJSONEps: layer_norm_eps is written as the shortest decimal of
// its float32 (what Hugging Face's configs hold), and reads back exactly.
func TestConfigJSONEps(t *testing.T) {
	c := Config{Arch: BERT, Vocab: 10, Hidden: 8, Layers: 1, Heads: 2, Intermediate: 16, MaxPositions: 16,
		TypeVocab: 2, LayerNormEps: 1e-12, TiedDecoder: true}
	b, err := c.ConfigJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"layer_norm_eps": 1e-12,`) {
		t.Errorf("config.json:\n%s", b)
	}
	var back struct {
		Eps float64 `json:"layer_norm_eps"`
	}
	if err := json.Unmarshal(b, &back); err != nil || float32(back.Eps) != c.LayerNormEps {
		t.Errorf("read back %v (%v), want %v", back.Eps, err, c.LayerNormEps)
	}
}
