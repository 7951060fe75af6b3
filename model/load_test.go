package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// stTensor is a tensor to write into a test safetensors file.
type stTensor struct {
	dtype string
	shape []int
	data  []byte
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

// encodeSafetensors builds a safetensors file (names sorted).
func encodeSafetensors(t testing.TB, ts map[string]stTensor) []byte {
	names := make([]string, 0, len(ts))
	for n := range ts {
		names = append(names, n)
	}
	sort.Strings(names)
	header := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var data []byte
	for _, n := range names {
		x := ts[n]
		header[n] = map[string]any{"dtype": x.dtype, "shape": x.shape, "data_offsets": []int{len(data), len(data) + len(x.data)}}
		data = append(data, x.data...)
	}
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	return append(append(out, h...), data...)
}

// testdataTensors reads every tensor of a test checkpoint as F32.
func testdataTensors(t *testing.T, arch string) map[string]stTensor {
	ck, closeFn, err := openSafetensors(filepath.Join("testdata", arch, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	out := map[string]stTensor{}
	for n, x := range ck.tensors {
		v, err := x.read()
		if err != nil {
			t.Fatal(err)
		}
		out[n] = stTensor{"F32", x.shape, f32Bytes(v)}
	}
	return out
}

func copyFile(t *testing.T, src, dst string) {
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBrokenCheckpoints: every defect is an error that says what is wrong
// (and loading never panics).
func TestBrokenCheckpoints(t *testing.T) {
	good := testdataTensors(t, "bert")
	goodBytes := encodeSafetensors(t, good)
	edit := func(f func(map[string]stTensor)) []byte {
		m := make(map[string]stTensor, len(good))
		for k, v := range good {
			m[k] = v
		}
		f(m)
		return encodeSafetensors(t, m)
	}
	rawHeader := func(h string, data int) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
		return append(append(b, h...), make([]byte, data)...)
	}
	cfg, err := os.ReadFile("testdata/bert/config.json")
	if err != nil {
		t.Fatal(err)
	}
	torchBin, err := os.ReadFile("testdata/bert/pytorch_model.bin")
	if err != nil {
		t.Fatal(err)
	}
	const l1 = "bert.encoder.layer.1.output.dense.weight"
	tests := []struct {
		name    string
		config  string // replaces config.json when set
		file    string // weights file name
		weights []byte
		want    string
	}{
		{"wrong shape", "", "model.safetensors", edit(func(m map[string]stTensor) {
			x := m[l1]
			m[l1] = stTensor{x.dtype, []int{x.shape[1], x.shape[0]}, x.data}
		}), `tensor "` + l1 + `" has shape [96 48], want [48 96]`},
		{"missing tensor", "", "model.safetensors", edit(func(m map[string]stTensor) { delete(m, l1) }), `missing tensor "` + l1 + `"`},
		{"integer tensor", "", "model.safetensors", edit(func(m map[string]stTensor) {
			x := m[l1]
			m[l1] = stTensor{"I32", x.shape, x.data}
		}), `has dtype "I32"`},
		{"unknown model_type", `{"model_type": "roberta"}`, "model.safetensors", goodBytes, `model_type "roberta" is not supported`},
		{"relu activation", strings.Replace(string(cfg), `"hidden_act": "gelu"`, `"hidden_act": "relu"`, 1), "model.safetensors", goodBytes, `activation "relu" is not supported`},
		{"config missing keys", `{"model_type": "bert", "hidden_size": 48}`, "model.safetensors", goodBytes, "bert model without [num_hidden_layers"},
		{"heads do not divide", strings.Replace(string(cfg), `"num_attention_heads": 4`, `"num_attention_heads": 5`, 1), "model.safetensors", goodBytes, "not a multiple of 5 heads"},
		{"truncated safetensors", "", "model.safetensors", goodBytes[:len(goodBytes)/2], "outside the"},
		{"truncated header", "", "model.safetensors", goodBytes[:100], "truncated safetensors file: header length"},
		{"empty file", "", "model.safetensors", nil, "too short"},
		{"huge header length", "", "model.safetensors", binary.LittleEndian.AppendUint64(nil, 1<<60), "header length 1152921504606846976"},
		{"huge declared shape", "", "model.safetensors",
			rawHeader(`{"x":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,8]}}`, 8),
			"more elements than the file can hold"},
		{"negative dimension", "", "model.safetensors",
			rawHeader(`{"x":{"dtype":"F32","shape":[-2,-1],"data_offsets":[0,8]}}`, 8), "negative dimension"},
		{"size mismatch", "", "model.safetensors",
			rawHeader(`{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, 16), "needs 12 bytes, data_offsets give 8"},
		{"bad json", "", "model.safetensors", rawHeader(`{"x":`, 0), "corrupt safetensors header"},
		{"truncated pytorch_model.bin", "", "pytorch_model.bin", torchBin[:len(torchBin)/2], "not a PyTorch zip checkpoint"},
		{"not a zip", "", "pytorch_model.bin", []byte("garbage"), "not a PyTorch zip checkpoint"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := tc.config
			if c == "" {
				c = string(cfg)
			}
			if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(c), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, tc.file), tc.weights, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestVocabMismatch: a tokenizer whose size differs from vocab_size.
func TestVocabMismatch(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"config.json", "model.safetensors", "tokenizer_config.json"} {
		copyFile(t, filepath.Join("testdata/bert", f), filepath.Join(dir, f))
	}
	vocab, err := os.ReadFile("testdata/bert/vocab.txt")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vocab.txt"), append(vocab, "extra\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = LoadWithTokenizer(dir)
	if err == nil || !strings.Contains(err.Error(), "3200 entries but config.json says vocab_size 3199") {
		t.Fatalf("error %v, want a vocabulary size mismatch", err)
	}
}

// TestHalfPrecision: F16 and BF16 tensors decode exactly to float32.
func TestHalfPrecision(t *testing.T) {
	u16 := func(v ...uint16) []byte {
		var b []byte
		for _, x := range v {
			b = binary.LittleEndian.AppendUint16(b, x)
		}
		return b
	}
	file := encodeSafetensors(t, map[string]stTensor{
		// 1, -2, 0.5, 65504 (max), smallest subnormal 2^-24, -0
		"h": {"F16", []int{2, 3}, u16(0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x8000)},
		// 1, -2, 3.140625, 1e38-ish
		"b": {"BF16", []int{4}, u16(0x3F80, 0xC000, 0x4049, 0x7E96)},
	})
	ck, err := parseSafetensors(bytes.NewReader(file), int64(len(file)), "test")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]float32{
		"h": {1, -2, 0.5, 65504, 1.0 / (1 << 24), float32(math.Copysign(0, -1))},
		"b": {1, -2, 3.140625, math.Float32frombits(0x7E960000)},
	} {
		got, err := ck.tensors[name].read()
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Errorf("%s[%d] = %g, want %g", name, i, got[i], want[i])
			}
		}
	}
}

// TestHalfToFloatAll: every binary16 value against the float64 formula.
func TestHalfToFloatAll(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		exp, mant := (h>>10)&0x1f, h&0x3ff
		var want float64
		switch {
		case exp == 0x1f && mant == 0:
			want = math.Inf(1)
		case exp == 0x1f:
			if got := halfToFloat(uint16(h)); !math.IsNaN(float64(got)) {
				t.Fatalf("halfToFloat(%#04x) = %g, want NaN", h, got)
			}
			continue
		case exp == 0:
			want = float64(mant) * math.Pow(2, -24)
		default:
			want = (1 + float64(mant)/1024) * math.Pow(2, float64(exp-15))
		}
		if h&0x8000 != 0 {
			want = -want
		}
		if got := halfToFloat(uint16(h)); float64(got) != want || math.Signbit(float64(got)) != (h&0x8000 != 0) {
			t.Fatalf("halfToFloat(%#04x) = %g, want %g", h, got, want)
		}
	}
}

// FuzzSafetensors: any file either fails to parse with an error or yields
// tensors whose reads stay within the file.
func FuzzSafetensors(f *testing.F) {
	f.Add(encodeSafetensors(f, map[string]stTensor{"a": {"F32", []int{2}, f32Bytes([]float32{1, 2})}}))
	f.Add(encodeSafetensors(f, map[string]stTensor{"a": {"F16", []int{1, 2}, []byte{0, 0x3c, 0, 0xc0}}, "b": {"BF16", []int{}, []byte{0x80, 0x3f}}}))
	f.Add(binary.LittleEndian.AppendUint64(nil, 1<<62))
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 0, '{', '}'})
	f.Fuzz(func(t *testing.T, data []byte) {
		ck, err := parseSafetensors(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			return
		}
		for _, x := range ck.tensors {
			if v, err := x.read(); err == nil && len(v) > len(data) {
				t.Fatalf("tensor of %d elements from %d bytes", len(v), len(data))
			}
		}
	})
}

// FuzzPickle: the pickle pre-check and unpickler return errors, never
// panic or allocate beyond the input, on any state-dict pickle.
func FuzzPickle(f *testing.F) {
	f.Add([]byte("\x80\x02}q\x00."))
	f.Add([]byte("\x80\x02ctorch._utils\n_rebuild_tensor_v2\n)R."))
	f.Add([]byte("\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\x7f."))
	f.Add([]byte("X\xff\xff\xff\x7fabc."))
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := unpickleStateDict(data, nil, 0)
		if err == nil {
			stateDictTensors(obj, "fuzz")
		}
	})
}
