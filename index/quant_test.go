package index

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestF16(t *testing.T) {
	for _, tc := range []struct {
		in   float32
		want float32
	}{
		{0, 0}, {1, 1}, {0.5, 0.5}, {2.75, 2.75}, {65504, 65504}, {1e-8, float32(math.Ldexp(1, -24))},
		{1.0009765625, 1.0009765625}, {1.00048828125, 1}, // tie rounds to even
		{6.103515625e-05, 6.103515625e-05}, // smallest normal
	} {
		if got := f16ToF32(f32ToF16(tc.in)); got != tc.want {
			t.Errorf("f16(%g) = %g, want %g", tc.in, got, tc.want)
		}
	}
	// every half value round-trips
	for h := uint16(0); h < 0x7c00; h++ {
		if got := f32ToF16(f16ToF32(h)); got != h && !(h == 0 && got == 0) {
			t.Fatalf("half %#x -> %g -> %#x", h, f16ToF32(h), got)
		}
	}
}

func TestQuantizeU8(t *testing.T) {
	for _, tc := range []struct {
		top  uint8
		w    float32
		want uint8
	}{
		{255, 3, 255}, {255, 1e-9, 1}, {255, 1.5, 128}, {255, 3.01, 255},
		{31, 3, 31}, {31, 1e-9, 1}, {31, 1.5, 16}, {31, 1.45, 15}, {31, 3.2, 31},
		{40, 3, 40}, {40, 1.53, 20}, {40, 1.51, 20}, {40, 1.46, 19},
		{1, 3, 1}, {1, 0.2, 1},
	} {
		if got := quantizeU8(tc.w, 3.0/float64(tc.top), tc.top); got != tc.want {
			t.Errorf("top level %d: quantizeU8(%g) = %d, want %d", tc.top, tc.w, got, tc.want)
		}
	}
}

// TestImpactLevelsChecked: impact levels outside 1..255, or given for a
// float quantization, are refused when building, and a meta.json that
// claims them is refused when opening.
func TestImpactLevelsChecked(t *testing.T) {
	for _, opt := range []BuildOptions{
		{ImpactLevels: 256}, {ImpactLevels: -1}, {Quantize: QuantF16, ImpactLevels: 31}, {Quantize: QuantF32, ImpactLevels: 255},
	} {
		if b, err := NewBuilder(t.TempDir(), opt); err == nil {
			b.Abort()
			t.Errorf("%+v accepted", opt)
		} else if !strings.Contains(err.Error(), "impact levels") {
			t.Errorf("%+v: error %q does not name impact levels", opt, err)
		}
	}
	for _, tc := range []struct {
		q      Quantization
		levels int
	}{{QuantU8, 256}, {QuantU8, -2}, {QuantF32, 63}} {
		dir := t.TempDir()
		build(t, dir, randomDocs(50, 40, 7), BuildOptions{Quantize: tc.q})
		gdir, _ := generationFiles(t, dir)
		rewriteMeta(t, gdir, func(m *Meta) { m.ImpactLevels = tc.levels })
		if ix, err := Open(dir); err == nil {
			ix.Close()
			t.Errorf("%v index with impact_levels %d opened", tc.q, tc.levels)
		} else if !strings.Contains(err.Error(), fileMeta) || !strings.Contains(err.Error(), "impact_levels") {
			t.Errorf("%v, impact_levels %d: error %q does not name meta.json and impact_levels", tc.q, tc.levels, err)
		}
	}
}

// rewriteMeta edits a generation's meta.json and writes it back with a
// valid header and checksum, so that only its content is wrong.
func rewriteMeta(t *testing.T, gdir string, edit func(*Meta)) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(gdir, fileMeta))
	if err != nil {
		t.Fatal(err)
	}
	var m Meta
	if err := json.Unmarshal(raw[headerSize:], &m); err != nil {
		t.Fatal(err)
	}
	edit(&m)
	mj, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(gdir, fileMeta))
	f, err := createFile(gdir, fileMeta)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(mj)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
