package model

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
)

// The safetensors format (Hugging Face): an unsigned 64-bit little-endian
// header length N, N bytes of JSON mapping tensor names to
// {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
// end of the header), an optional "__metadata__" entry, then the raw
// little-endian data. Every size is checked against the file size before
// anything is allocated.

// maxHeaderBytes bounds the JSON header (real ones are a few hundred KB).
const maxHeaderBytes = 100 << 20

type stEntry struct {
	Dtype       string  `json:"dtype"`
	Shape       []int   `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// openSafetensors indexes the tensors of a safetensors file; the file stays
// open until the returned close is called.
func openSafetensors(path string) (*checkpoint, func() error, error) {
	return openCheckpoint(path, parseSafetensors)
}

// openCheckpoint opens path and indexes its tensors with parse, which
// checks every size it declares against the file's.
func openCheckpoint(path string, parse func(r io.ReaderAt, size int64, name string) (*checkpoint, error)) (*checkpoint, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	ck, err := parse(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return ck, f.Close, nil
}

// parseSafetensors reads the header from r (size bytes long) and returns
// tensors that read their data from r when asked.
func parseSafetensors(r io.ReaderAt, size int64, name string) (*checkpoint, error) {
	var lenBuf [8]byte
	if size < 8 {
		return nil, fmt.Errorf("%s: not a safetensors file: %d bytes, too short for the header length", name, size)
	}
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("%s: reading header length: %w", name, err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > uint64(size-8) || n > maxHeaderBytes {
		return nil, fmt.Errorf("%s: corrupt or truncated safetensors file: header length %d, but the file has %d bytes", name, n, size)
	}
	header := make([]byte, n)
	if _, err := r.ReadAt(header, 8); err != nil {
		return nil, fmt.Errorf("%s: reading header: %w", name, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return nil, fmt.Errorf("%s: corrupt safetensors header: %w", name, err)
	}
	base := 8 + int64(n)
	dataLen := size - base
	ck := &checkpoint{name: name, tensors: make(map[string]*tensor, len(raw))}
	names := make([]string, 0, len(raw))
	for k := range raw {
		names = append(names, k)
	}
	sort.Strings(names) // deterministic error messages
	for _, key := range names {
		if key == "__metadata__" {
			continue
		}
		var e stEntry
		if err := json.Unmarshal(raw[key], &e); err != nil {
			return nil, fmt.Errorf("%s: tensor %q: corrupt header entry: %w", name, key, err)
		}
		if len(e.DataOffsets) != 2 || e.DataOffsets[0] < 0 || e.DataOffsets[0] > e.DataOffsets[1] || e.DataOffsets[1] > dataLen {
			return nil, fmt.Errorf("%s: tensor %q: data_offsets %v outside the %d data bytes (truncated file?)", name, key, e.DataOffsets, dataLen)
		}
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		var dt *dtype
		switch e.Dtype {
		case "F32":
			dt = &dtF32
		case "F16":
			dt = &dtF16
		case "BF16":
			dt = &dtBF16
		case "F64":
			dt = &dtF64
		}
		elemSize := int64(1)
		if dt != nil {
			elemSize = int64(dt.size)
		}
		cnt, err := numel(e.Shape, dataLen/elemSize)
		if err != nil {
			return nil, fmt.Errorf("%s: tensor %q: %w", name, key, err)
		}
		t := &tensor{shape: e.Shape}
		if dt == nil {
			dtName := e.Dtype
			t.read = func() ([]float32, error) {
				return nil, fmt.Errorf("%s: tensor %q has dtype %q, want F32, F16, BF16 or F64", name, key, dtName)
			}
		} else {
			if cnt*elemSize != end-begin {
				return nil, fmt.Errorf("%s: tensor %q: shape %v of %s needs %d bytes, data_offsets give %d", name, key, e.Shape, dt.name, cnt*elemSize, end-begin)
			}
			t.read = func() ([]float32, error) {
				buf := make([]byte, end-begin)
				if _, err := r.ReadAt(buf, base+begin); err != nil {
					return nil, fmt.Errorf("%s: tensor %q: %w", name, key, err)
				}
				out := make([]float32, cnt)
				dt.decode(out, buf)
				return out, nil
			}
		}
		ck.tensors[key] = t
	}
	return ck, nil
}
