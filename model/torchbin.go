package model

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// pytorch_model.bin is what torch.save(state_dict) writes since PyTorch 1.6:
// a zip archive holding <archive>/data.pkl, a pickle of the state dict in
// which each tensor is a call to torch._utils._rebuild_tensor_v2 on a
// "persistent" storage, and <archive>/data/<key> with each storage's raw
// little-endian elements. We unpickle with gopickle's pickle machine but
// resolve classes and storages ourselves, so that every declared size is
// checked against the archive before anything is allocated.

// maxPickleBytes bounds data.pkl (a few hundred KB for BERT-large).
const maxPickleBytes = 64 << 20

type torchStorageType struct {
	name string
	dt   *dtype // nil: not a floating-point storage
}

type torchStorage struct {
	typ  *torchStorageType
	key  string
	size int64 // elements
	file *zip.File
	data []float32 // decoded on first use, shared by the tensors viewing it
}

type torchTensor struct {
	storage *torchStorage
	offset  int
	shape   []int
	stride  []int
}

type rebuildTensor struct{}

func (rebuildTensor) Call(args ...interface{}) (interface{}, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: %d arguments, want at least 4", len(args))
	}
	st, ok := args[0].(*torchStorage)
	off, ok2 := args[1].(int)
	if !ok || !ok2 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: unexpected arguments (%T, %T)", args[0], args[1])
	}
	shape, err := intTuple(args[2])
	if err != nil {
		return nil, fmt.Errorf("_rebuild_tensor_v2: size: %w", err)
	}
	stride, err := intTuple(args[3])
	if err != nil {
		return nil, fmt.Errorf("_rebuild_tensor_v2: stride: %w", err)
	}
	if len(shape) != len(stride) {
		return nil, fmt.Errorf("_rebuild_tensor_v2: size %v and stride %v differ in rank", shape, stride)
	}
	return &torchTensor{storage: st, offset: off, shape: shape, stride: stride}, nil
}

// rebuildParameter unwraps an nn.Parameter (its first argument is the tensor).
type rebuildParameter struct{}

func (rebuildParameter) Call(args ...interface{}) (interface{}, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("_rebuild_parameter: no arguments")
	}
	return args[0], nil
}

func intTuple(v interface{}) ([]int, error) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, fmt.Errorf("want a tuple, got %T", v)
	}
	out := make([]int, t.Len())
	for i := range out {
		n, ok := t.Get(i).(int)
		if !ok {
			return nil, fmt.Errorf("want a tuple of ints, got %T", t.Get(i))
		}
		out[i] = n
	}
	return out, nil
}

var torchStorageTypes = map[string]*torchStorageType{
	"FloatStorage":    {"FloatStorage", &dtF32},
	"HalfStorage":     {"HalfStorage", &dtF16},
	"BFloat16Storage": {"BFloat16Storage", &dtBF16},
	"DoubleStorage":   {"DoubleStorage", &dtF64},
	"LongStorage":     {"LongStorage", nil},
	"IntStorage":      {"IntStorage", nil},
	"ShortStorage":    {"ShortStorage", nil},
	"CharStorage":     {"CharStorage", nil},
	"ByteStorage":     {"ByteStorage", nil},
	"BoolStorage":     {"BoolStorage", nil},
}

var integerSizes = map[string]int{"LongStorage": 8, "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1, "BoolStorage": 1}

// openTorchBin indexes the tensors of a torch.save zip archive; the file
// stays open until the returned close is called.
func openTorchBin(path string) (*checkpoint, func() error, error) {
	return openCheckpoint(path, parseTorchBin)
}

// parseTorchBin indexes the tensors of a torch.save archive of size bytes
// read from r; the tensors read their data from r when asked.
func parseTorchBin(r io.ReaderAt, size int64, filename string) (*checkpoint, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%s: not a PyTorch zip checkpoint (legacy pre-1.6 files are not supported): %w", filename, err)
	}
	var pkl *zip.File
	records := map[string]*zip.File{}
	for _, f := range zr.File {
		dir, base := path.Split(f.Name)
		if base == "data.pkl" && strings.Count(dir, "/") == 1 {
			pkl = f
		}
		if strings.HasSuffix(dir, "/data/") {
			records[base] = f
		}
		if base == "constants.pkl" {
			return nil, fmt.Errorf("%s: a TorchScript archive, not a state dict", filename)
		}
	}
	if pkl == nil {
		return nil, fmt.Errorf("%s: no data.pkl in the archive", filename)
	}
	if pkl.UncompressedSize64 > maxPickleBytes {
		return nil, fmt.Errorf("%s: data.pkl declares %d bytes, more than the %d accepted", filename, pkl.UncompressedSize64, maxPickleBytes)
	}
	rc, err := pkl.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: data.pkl: %w", filename, err)
	}
	prog, err := io.ReadAll(io.LimitReader(rc, maxPickleBytes+1))
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: data.pkl: %w", filename, err)
	}
	obj, err := unpickleStateDict(prog, records, size)
	if err != nil {
		return nil, fmt.Errorf("%s: data.pkl: %w", filename, err)
	}
	return stateDictTensors(obj, filename)
}

// checkRecord checks what a storage record's zip header declares against
// the archive (archiveSize bytes): archive/zip takes the sizes on trust, so
// a record may claim a terabyte that the file does not hold, and reading
// it would allocate the claim before finding out.
func checkRecord(f *zip.File, key string, archiveSize int64) error {
	off, err := f.DataOffset()
	if err != nil {
		return fmt.Errorf("storage %q: %w", key, err)
	}
	if off < 0 || f.CompressedSize64 > uint64(archiveSize) || uint64(off) > uint64(archiveSize)-f.CompressedSize64 {
		return fmt.Errorf("storage %q declares %d bytes at offset %d, which extends past the end of the archive (%d bytes)", key, f.CompressedSize64, off, archiveSize)
	}
	if f.Method == zip.Store && f.UncompressedSize64 != f.CompressedSize64 {
		return fmt.Errorf("storage %q is stored (uncompressed) but declares %d bytes uncompressed and %d stored", key, f.UncompressedSize64, f.CompressedSize64)
	}
	if f.Method != zip.Store && f.UncompressedSize64 > 1100*f.CompressedSize64 {
		// DEFLATE cannot compress more than 1032:1.
		return fmt.Errorf("storage %q: implausible compression ratio (%d bytes from %d)", key, f.UncompressedSize64, f.CompressedSize64)
	}
	return nil
}

// unpickleStateDict runs the pickle program of a state dict whose storages
// are the records of an archive of archiveSize bytes.
func unpickleStateDict(prog []byte, records map[string]*zip.File, archiveSize int64) (obj interface{}, err error) {
	if err := checkPickle(prog); err != nil {
		return nil, err
	}
	defer func() {
		// The pickle machine is third-party code running on outside
		// data; turn any failure it did not anticipate into an error.
		if r := recover(); r != nil {
			obj, err = nil, fmt.Errorf("corrupt pickle: %v", r)
		}
	}()
	u := pickle.NewUnpickler(bytes.NewReader(prog))
	u.FindClass = func(module, name string) (interface{}, error) {
		switch module + "." + name {
		case "torch._utils._rebuild_tensor_v2":
			return rebuildTensor{}, nil
		case "torch._utils._rebuild_parameter":
			return rebuildParameter{}, nil
		}
		if module == "torch" {
			if t, ok := torchStorageTypes[name]; ok {
				return t, nil
			}
		}
		return nil, fmt.Errorf("unsupported class %s.%s in a state dict", module, name)
	}
	storages := map[string]*torchStorage{}
	u.PersistentLoad = func(id interface{}) (interface{}, error) {
		t, ok := id.(*types.Tuple)
		if !ok || t.Len() < 5 {
			return nil, fmt.Errorf("persistent id %v: want ('storage', type, key, location, size)", id)
		}
		kind, _ := t.Get(0).(string)
		typ, ok1 := t.Get(1).(*torchStorageType)
		key, ok2 := t.Get(2).(string)
		size, ok3 := t.Get(4).(int)
		if kind != "storage" || !ok1 || !ok2 || !ok3 || size < 0 {
			return nil, fmt.Errorf("persistent id %v: want ('storage', type, key, location, size)", id)
		}
		if s, ok := storages[key]; ok {
			return s, nil
		}
		f, ok := records[key]
		if !ok {
			return nil, fmt.Errorf("storage %q is not in the archive", key)
		}
		es := integerSizes[typ.name]
		if typ.dt != nil {
			es = typ.dt.size
		}
		if err := checkRecord(f, key, archiveSize); err != nil {
			return nil, err
		}
		if uint64(size) > f.UncompressedSize64/uint64(es) {
			return nil, fmt.Errorf("storage %q declares %d elements of %d bytes, but holds %d bytes", key, size, es, f.UncompressedSize64)
		}
		s := &torchStorage{typ: typ, key: key, size: int64(size), file: f}
		storages[key] = s
		return s, nil
	}
	return u.Load()
}

// stateDictTensors maps the names of a (possibly ordered) dict to tensors.
func stateDictTensors(obj interface{}, filename string) (*checkpoint, error) {
	ck := &checkpoint{name: filename, tensors: map[string]*tensor{}}
	add := func(k, v interface{}) error {
		name, ok := k.(string)
		if !ok {
			return fmt.Errorf("%s: state dict key %v is not a string", filename, k)
		}
		tt, ok := v.(*torchTensor)
		if !ok {
			return nil // not a tensor (e.g. a version number): not a weight
		}
		t, err := torchTensorReader(tt, name, filename)
		if err != nil {
			return err
		}
		ck.tensors[name] = t
		return nil
	}
	switch d := obj.(type) {
	case *types.OrderedDict:
		for e := d.List.Front(); e != nil; e = e.Next() {
			ent := e.Value.(*types.OrderedDictEntry)
			if err := add(ent.Key, ent.Value); err != nil {
				return nil, err
			}
		}
	case *types.Dict:
		for _, e := range *d {
			if err := add(e.Key, e.Value); err != nil {
				return nil, err
			}
		}
	case map[interface{}]interface{}:
		keys := make([]string, 0, len(d))
		for k := range d {
			s, _ := k.(string)
			keys = append(keys, s)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := add(k, d[k]); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("%s: the pickle holds a %T, want a state dict", filename, obj)
	}
	return ck, nil
}

// torchTensorReader checks that the view (offset, shape, stride) lies inside
// its storage and returns a reader that gathers it in row-major order.
func torchTensorReader(tt *torchTensor, name, filename string) (*tensor, error) {
	st := tt.storage
	cnt, err := numel(tt.shape, st.size)
	if err != nil {
		return nil, fmt.Errorf("%s: tensor %q: %w", filename, name, err)
	}
	if tt.offset < 0 {
		return nil, fmt.Errorf("%s: tensor %q: negative storage offset", filename, name)
	}
	if cnt > 0 {
		last := int64(tt.offset)
		for i, d := range tt.shape {
			if tt.stride[i] < 0 {
				return nil, fmt.Errorf("%s: tensor %q: negative stride %v", filename, name, tt.stride)
			}
			last += int64(d-1) * int64(tt.stride[i])
		}
		if last >= st.size {
			return nil, fmt.Errorf("%s: tensor %q: view (offset %d, shape %v, stride %v) exceeds its storage of %d elements", filename, name, tt.offset, tt.shape, tt.stride, st.size)
		}
	}
	t := &tensor{shape: tt.shape}
	t.read = func() ([]float32, error) {
		if st.typ.dt == nil {
			return nil, fmt.Errorf("%s: tensor %q is a %s, want floating point", filename, name, st.typ.name)
		}
		if st.data == nil {
			rc, err := st.file.Open()
			if err != nil {
				return nil, fmt.Errorf("%s: storage of %q: %w", filename, name, err)
			}
			buf, err := readStorage(rc, st.size*int64(st.typ.dt.size), st.file.Method == zip.Store)
			rc.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: storage of %q: %w", filename, name, err)
			}
			st.data = make([]float32, st.size)
			st.typ.dt.decode(st.data, buf)
		}
		out := make([]float32, cnt)
		gather(out, st.data, tt.offset, tt.shape, tt.stride)
		return out, nil
	}
	return t, nil
}

// readStorage reads the n bytes of a storage. A stored record's bytes were
// checked to lie in the file, so its buffer is allocated at once; a
// compressed one grows with the data actually inflated, so that a record
// declaring more than it holds fails having allocated only what it held.
func readStorage(r io.Reader, n int64, stored bool) ([]byte, error) {
	if stored {
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	buf, err := io.ReadAll(io.LimitReader(r, n))
	if err != nil {
		return nil, err
	}
	if int64(len(buf)) != n {
		return nil, fmt.Errorf("%d bytes, want %d: %w", len(buf), n, io.ErrUnexpectedEOF)
	}
	return buf, nil
}

// gather copies a strided view into dst in row-major order.
func gather(dst, src []float32, off int, shape, stride []int) {
	if len(shape) == 0 {
		dst[0] = src[off]
		return
	}
	inner := 1
	for _, d := range shape[1:] {
		inner *= d
	}
	for i := 0; i < shape[0]; i++ {
		gather(dst[i*inner:(i+1)*inner], src, off+i*stride[0], shape[1:], stride[1:])
	}
}

// checkPickle walks the opcodes of a pickle program and rejects arguments
// that declare more bytes than remain, which the pickle machine would
// otherwise allocate before noticing the truncation.
func checkPickle(p []byte) error {
	// Argument layout per opcode: fixed bytes, or a length prefix of
	// 1, 4 or 8 bytes, or newline-terminated lines.
	const (
		line = -1
		two  = -2 // two lines
	)
	fixed := map[byte]int{
		'J': 4, 'K': 1, 'M': 2, 'G': 8, 'h': 1, 'j': 4, 'q': 1, 'r': 4,
		0x80: 1, 0x82: 1, 0x83: 2, 0x84: 4, 0x95: 8,
		'F': line, 'I': line, 'L': line, 'P': line, 'S': line, 'V': line, 'g': line, 'p': line,
		'c': two, 'i': two,
	}
	prefixed := map[byte]int{'T': 4, 'U': 1, 'X': 4, 0x8a: 1, 0x8b: 4, 'B': 4, 'C': 1, 0x8c: 1, 0x8d: 8, 0x8e: 8, 0x96: 8}
	noArg := "(.012NQRabd}elo]st)u" + "\x81\x85\x86\x87\x88\x89\x8f\x90\x91\x92\x93\x94\x97\x98"
	for i := 0; i < len(p); {
		op := p[i]
		i++
		if n, ok := prefixed[op]; ok {
			if len(p)-i < n {
				return fmt.Errorf("corrupt pickle: truncated at byte %d", i)
			}
			var l uint64
			switch n {
			case 1:
				l = uint64(p[i])
			case 4:
				l = uint64(binary.LittleEndian.Uint32(p[i:]))
			case 8:
				l = binary.LittleEndian.Uint64(p[i:])
			}
			i += n
			if l > uint64(len(p)-i) {
				return fmt.Errorf("corrupt pickle: opcode 0x%02x at byte %d declares %d bytes, %d remain", op, i-n-1, l, len(p)-i)
			}
			i += int(l)
			continue
		}
		if n, ok := fixed[op]; ok {
			lines := 0
			switch n {
			case line:
				lines = 1
			case two:
				lines = 2
			default:
				if len(p)-i < n {
					return fmt.Errorf("corrupt pickle: truncated at byte %d", i)
				}
				if op == 0x95 && binary.LittleEndian.Uint64(p[i:]) > uint64(len(p)-i-n) {
					return fmt.Errorf("corrupt pickle: frame at byte %d longer than the pickle", i-1)
				}
				i += n
			}
			for ; lines > 0; lines-- {
				j := bytes.IndexByte(p[i:], '\n')
				if j < 0 {
					return fmt.Errorf("corrupt pickle: unterminated line at byte %d", i)
				}
				i += j + 1
			}
			continue
		}
		if strings.IndexByte(noArg, op) < 0 {
			return fmt.Errorf("corrupt pickle: unknown opcode 0x%02x at byte %d", op, i-1)
		}
		if op == '.' {
			return nil
		}
	}
	return fmt.Errorf("corrupt pickle: no STOP opcode")
}
