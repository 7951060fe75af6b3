package index

import (
	"encoding/binary"
	"io"
	"unsafe"
)

// hostLittle reports a little-endian host, whose memory holds integers as
// the index files store them.
var hostLittle = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// readChunk is how much readInts reads at a time: small enough that the
// checksum a caller's reader computes on the way runs over bytes still in
// the caches, large enough that reads stay few.
const readChunk = 256 << 10

// readInts fills dst with little-endian integers (or bytes) read from r. With direct
// (a little-endian host) it reads the bytes straight into dst's memory, a
// chunk at a time, instead of decoding each entry: seismic.bin's arrays
// hold hundreds of millions of entries at 1M documents (BENCHMARKS.md,
// session 11). Without, it decodes chunk by chunk: the portable path,
// which the tests compare it with.
func readInts[T uint8 | uint16 | uint32 | uint64](r io.Reader, dst []T, direct bool) error {
	if len(dst) == 0 {
		return nil
	}
	w := int(unsafe.Sizeof(dst[0]))
	if direct {
		b := unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), len(dst)*w)
		for len(b) > 0 {
			k := min(len(b), readChunk)
			if _, err := io.ReadFull(r, b[:k]); err != nil {
				return err
			}
			b = b[k:]
		}
		return nil
	}
	buf := make([]byte, readChunk)
	for i := 0; i < len(dst); {
		k := min(len(dst)-i, len(buf)/w)
		b := buf[:k*w]
		if _, err := io.ReadFull(r, b); err != nil {
			return err
		}
		switch d := any(dst[i : i+k]).(type) {
		case []uint8:
			copy(d, b)
		case []uint16:
			for j := range d {
				d[j] = binary.LittleEndian.Uint16(b[2*j:])
			}
		case []uint32:
			for j := range d {
				d[j] = binary.LittleEndian.Uint32(b[4*j:])
			}
		case []uint64:
			for j := range d {
				d[j] = binary.LittleEndian.Uint64(b[8*j:])
			}
		}
		i += k
	}
	return nil
}
