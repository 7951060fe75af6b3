package model

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splade-go/splade/internal/hostile"
)

// Malicious checkpoints: headers that declare enormous tensors the file
// does not hold. Each must be an error naming the problem, reached without
// allocating what was declared (a few MiB at most, measured), never an
// out-of-memory crash.

// hugeConfig declares the largest model Config.Validate accepts: its word
// embeddings alone would be 4M x 16K float32 = 256 GiB.
const hugeConfig = `{"model_type": "bert", "vocab_size": 4194304, "hidden_size": 16384,
 "num_hidden_layers": 256, "num_attention_heads": 16, "intermediate_size": 131072,
 "max_position_embeddings": 65536}`

const (
	hugeVocab  = 4194304
	hugeHidden = 16384
)

// pickledTensor is one entry of a hand-built state-dict pickle.
type pickledTensor struct {
	name, storageKey, storageType string
	storageSize                   int64 // elements, as the persistent id declares
	shape                         []int64
}

// stateDictPickle writes, in pickle protocol 2, what torch.save writes for
// a state dict: {name: _rebuild_tensor_v2(storage, 0, shape, stride,
// False)}, each storage a persistent id ('storage', type, key, 'cpu', size).
func stateDictPickle(ts []pickledTensor) []byte {
	var p bytes.Buffer
	str := func(s string) {
		p.WriteByte('X')
		p.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(s))))
		p.WriteString(s)
	}
	long := func(v int64) { // LONG1 with 8 bytes: any int64
		p.Write([]byte{0x8a, 8})
		p.Write(binary.LittleEndian.AppendUint64(nil, uint64(v)))
	}
	p.Write([]byte{0x80, 2, '}', '('})
	for _, x := range ts {
		str(x.name)
		p.WriteString("ctorch._utils\n_rebuild_tensor_v2\n(")
		p.WriteString("(")
		str("storage")
		p.WriteString("ctorch\n" + x.storageType + "\n")
		str(x.storageKey)
		str("cpu")
		long(x.storageSize)
		p.WriteString("tQ") // TUPLE, BINPERSID
		long(0)
		p.WriteByte('(')
		for _, d := range x.shape {
			long(d)
		}
		p.WriteString("t(")
		stride := int64(1)
		strides := make([]int64, len(x.shape))
		for i := len(x.shape) - 1; i >= 0; i-- {
			strides[i] = stride
			stride *= x.shape[i]
		}
		for _, s := range strides {
			long(s)
		}
		p.WriteString("t\x89tR") // stride tuple, False, args tuple, REDUCE
	}
	p.WriteString("u.")
	return p.Bytes()
}

// zipRecord is a storage record of a hand-built archive: what its header
// declares and the bytes it really holds.
type zipRecord struct {
	key          string
	method       uint16
	uncompressed uint64
	compressed   uint64
	data         []byte
}

// torchArchive writes a torch.save-style zip: archive/data.pkl and
// archive/data/<key> per record, with headers declaring the given sizes
// whatever the data written.
func torchArchive(t testing.TB, pkl []byte, recs []zipRecord) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(pkl)
	for _, r := range recs {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: "archive/data/" + r.key, Method: r.method,
			UncompressedSize64: r.uncompressed, CompressedSize64: r.compressed})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(r.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestMaliciousCheckpoints(t *testing.T) {
	wordEmb := "bert.embeddings.word_embeddings.weight"
	huge := int64(hugeVocab) * hugeHidden // elements of wordEmb
	embPickle := stateDictPickle([]pickledTensor{{wordEmb, "0", "FloatStorage", huge, []int64{hugeVocab, hugeHidden}}})
	rawHeader := func(h string, data int) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
		return append(append(b, h...), make([]byte, data)...)
	}
	tests := []struct {
		name, config, file string
		weights            []byte
		want               string
	}{
		{"zip entry declaring 256 GiB stored", hugeConfig, "pytorch_model.bin",
			torchArchive(t, embPickle, []zipRecord{{"0", zip.Store, 4 * uint64(huge), 4 * uint64(huge), make([]byte, 64)}}),
			"extends past the end of the archive"},
		{"stored zip entry whose sizes disagree", hugeConfig, "pytorch_model.bin",
			torchArchive(t, embPickle, []zipRecord{{"0", zip.Store, 4 * uint64(huge), 64, make([]byte, 64)}}),
			"stored (uncompressed) but declares"},
		{"deflated zip entry declaring 256 GiB", hugeConfig, "pytorch_model.bin",
			torchArchive(t, embPickle, []zipRecord{{"0", zip.Deflate, 4 * uint64(huge), 64, make([]byte, 64)}}),
			"implausible compression ratio"},
		{"storage larger than its record", hugeConfig, "pytorch_model.bin",
			torchArchive(t, embPickle, []zipRecord{{"0", zip.Store, 64, 64, make([]byte, 64)}}),
			"declares 68719476736 elements of 4 bytes, but holds 64 bytes"},
		{"view beyond its storage", hugeConfig, "pytorch_model.bin",
			torchArchive(t, stateDictPickle([]pickledTensor{{wordEmb, "0", "FloatStorage", 16, []int64{hugeVocab, hugeHidden}}}),
				[]zipRecord{{"0", zip.Store, 64, 64, make([]byte, 64)}}),
			"more elements than the file can hold"},
		{"pickle declaring a 2 GiB string", hugeConfig, "pytorch_model.bin",
			torchArchive(t, []byte("\x80\x02X\xff\xff\xff\x7fabc."), nil), "declares 2147483647 bytes"},
		{"safetensors declaring 256 GiB", hugeConfig, "model.safetensors",
			rawHeader(fmt.Sprintf(`{%q:{"dtype":"F32","shape":[%d,%d],"data_offsets":[0,%d]}}`, wordEmb, hugeVocab, hugeHidden, 4*huge), 64),
			"outside the 64 data bytes"},
		{"safetensors shape beyond its data", hugeConfig, "model.safetensors",
			rawHeader(fmt.Sprintf(`{%q:{"dtype":"F32","shape":[%d,%d],"data_offsets":[0,64]}}`, wordEmb, hugeVocab, hugeHidden), 64),
			"more elements than the file can hold"},
		{"config beyond the limits", strings.Replace(hugeConfig, "4194304", "4194305", 1), "model.safetensors",
			rawHeader(`{}`, 0), "vocab_size = 4194305"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(tc.config), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, tc.file), tc.weights, 0o644); err != nil {
				t.Fatal(err)
			}
			var err error
			alloc := hostile.Allocated(func() { _, err = Load(dir) })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: error %v, want one containing %q", err, tc.want)
			}
			if alloc > 8*hostile.MiB {
				t.Errorf("refusing the checkpoint allocated %d MiB", alloc/hostile.MiB)
			}
			t.Logf("%d KiB allocated: %v", alloc>>10, err)
		})
	}
}

// The hand-built archive is read like a torch.save file when its sizes are
// honest, so the refusals above come from the declared sizes alone.
func TestHandBuiltArchive(t *testing.T) {
	data := f32Bytes([]float32{1, 2, 3, 4, 5, 6})
	pkl := stateDictPickle([]pickledTensor{{"w", "0", "FloatStorage", 6, []int64{2, 3}}})
	path := filepath.Join(t.TempDir(), "pytorch_model.bin")
	if err := os.WriteFile(path, torchArchive(t, pkl, []zipRecord{{"0", zip.Store, 24, 24, data}}), 0o644); err != nil {
		t.Fatal(err)
	}
	ck, closeFn, err := openTorchBin(path)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	w, ok := ck.tensors["w"]
	if !ok || !sameShape(w.shape, []int{2, 3}) {
		t.Fatalf("tensors %v", ck.tensors)
	}
	v, err := w.read()
	if err != nil || fmt.Sprint(v) != "[1 2 3 4 5 6]" {
		t.Fatalf("read %v, %v", v, err)
	}
}

// tinyStateDict is what torch.save (PyTorch 1.13) wrote for
// {'w': arange(6.).reshape(2, 3), 'h': ones(3, dtype=float16),
// 'v': arange(6.).reshape(2, 3).t()}: a real archive, with a strided view
// and half precision, for the fuzzer to start from.
const tinyStateDict = "testdata/tiny_state_dict.bin"

func TestTinyStateDict(t *testing.T) {
	ck, closeFn, err := openTorchBin(tinyStateDict)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	want := map[string]string{"w": "[2 3] [0 1 2 3 4 5]", "h": "[3] [1 1 1]", "v": "[3 2] [0 3 1 4 2 5]"}
	for name, w := range want {
		x, ok := ck.tensors[name]
		if !ok {
			t.Fatalf("no tensor %q", name)
		}
		v, err := x.read()
		if got := fmt.Sprint(x.shape, " ", v); err != nil || got != w {
			t.Errorf("%s = %s (%v), want %s", name, got, err, w)
		}
	}
}

// FuzzTorchArchive: any pytorch_model.bin (zip, pickle, storages) either
// fails with an error or yields tensors whose reads return no more elements
// than the archive can hold (DEFLATE expands at most 1032:1).
func FuzzTorchArchive(f *testing.F) {
	honest := stateDictPickle([]pickledTensor{{"w", "0", "FloatStorage", 6, []int64{2, 3}}})
	f.Add(torchArchive(f, honest, []zipRecord{{"0", zip.Store, 24, 24, make([]byte, 24)}}))
	f.Add(torchArchive(f, honest, []zipRecord{{"0", zip.Store, 1 << 40, 1 << 40, make([]byte, 24)}}))
	f.Add(torchArchive(f, stateDictPickle([]pickledTensor{{"w", "0", "HalfStorage", 4, []int64{4}}, {"v", "0", "HalfStorage", 4, []int64{2}}}),
		[]zipRecord{{"0", zip.Store, 8, 8, make([]byte, 8)}}))
	if b, err := os.ReadFile(tinyStateDict); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ck, err := parseTorchBin(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			return
		}
		for name, x := range ck.tensors {
			if v, err := x.read(); err == nil && len(v) > 1100*len(data) {
				t.Fatalf("tensor %q of %d elements from %d bytes", name, len(v), len(data))
			}
		}
	})
}

// FuzzParseConfig: any config.json is a valid Config or an error; an
// accepted one passes Validate, so no size it declares exceeds the limits
// (and a checkpoint must still hold every tensor it implies).
func FuzzParseConfig(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "bert", "config.json")); err == nil {
		f.Add(b)
	}
	if b, err := os.ReadFile(filepath.Join("testdata", "distilbert", "config.json")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(hugeConfig))
	f.Add([]byte(`{"model_type": "bert", "hidden_size": -1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted config fails Validate: %v", err)
		}
		if c.Hidden > maxHidden || c.Vocab > maxVocab || c.Layers > maxLayers || c.MaxPositions > maxPositions || c.Hidden%c.Heads != 0 {
			t.Fatalf("accepted config beyond the limits: %+v", c)
		}
	})
}
