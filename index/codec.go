package index

import (
	"encoding/binary"
	"math/bits"
)

// Posting blocks are bit-packed: every value of a block is stored with the
// bit width of the block's largest value, least significant bit first, in a
// little-endian bit stream. Decoding is a shift and a mask per value, with
// no branches on the data, which is why it beats variable-byte codes on
// learned-sparse postings whose gaps and impacts are both small.

// bitWidth is the number of bits needed to hold v (0 for 0).
func bitWidth(v uint32) int { return bits.Len32(v) }

// packedLen is the byte length of n values of width w.
func packedLen(n, w int) int { return (n*w + 7) / 8 }

// appendPacked appends the values packed with width w.
func appendPacked(dst []byte, vals []uint32, w int) []byte {
	if w == 0 {
		return dst
	}
	var acc uint64
	nacc := 0
	for _, v := range vals {
		acc |= uint64(v) << nacc
		nacc += w
		for nacc >= 8 {
			dst = append(dst, byte(acc))
			acc >>= 8
			nacc -= 8
		}
	}
	if nacc > 0 {
		dst = append(dst, byte(acc))
	}
	return dst
}

// unpack decodes len(out) values of width w from src, which must hold at
// least packedLen(len(out), w) bytes; it reports false when it does not.
// A 64-bit buffer is refilled 32 bits at a time while four bytes remain,
// then a byte at a time.
func unpack(out []uint32, src []byte, w int) bool {
	if w == 0 {
		clear(out)
		return true
	}
	if w > 32 || len(src) < packedLen(len(out), w) {
		return false
	}
	// whole groups of 8 values (w bytes each) in vectors where the CPU
	// has them (unpack_amd64.s), the rest below
	if v := unpackVector(out, src, w); v > 0 {
		out, src = out[v:], src[v/8*w:]
	}
	mask := uint64(1)<<w - 1
	var acc uint64
	nacc, p, i := 0, 0, 0
	for ; i < len(out) && p+4 <= len(src); i++ {
		if nacc < w {
			acc |= uint64(binary.LittleEndian.Uint32(src[p:])) << nacc
			p += 4
			nacc += 32
		}
		out[i] = uint32(acc & mask)
		acc >>= w
		nacc -= w
	}
	for ; i < len(out); i++ {
		for nacc < w {
			acc |= uint64(src[p]) << nacc
			p++
			nacc += 8
		}
		out[i] = uint32(acc & mask)
		acc >>= w
		nacc -= w
	}
	return true
}

// Patched frame-of-reference (PFor, Zukowski et al., ICDE 2006): a block's
// values are packed with a width b chosen to minimize the block's size, and
// the few values that do not fit ("exceptions") store their high bits
// separately. Clustered document orders make gaps bursty (many tiny gaps,
// a few large ones) and SPLADE impacts are skewed; a plain maximum width
// would pay for the largest value in every slot.
//
//	b  u8            width of the low bits
//	e  u8            number of exceptions (0..n-1, or 255 meaning n)
//	hw u8            width of the exceptions' high bits (present when e > 0)
//	low  [n]b bits   value & (1<<b - 1), packed
//	pos  [e]u8       positions of the exceptions, increasing
//	high [e]hw bits  value >> b, packed

// appendPFor appends vals (len <= 255) in PFor layout; tmp is scratch.
func appendPFor(dst []byte, vals []uint32, tmp []uint32) []byte {
	var hist [33]int
	maxW := 0
	for _, v := range vals {
		w := bitWidth(v)
		hist[w]++
		maxW = max(maxW, w)
	}
	n := len(vals)
	bestB, bestCost := maxW, n*maxW
	exc := 0 // values wider than b, for b descending
	for b := maxW - 1; b >= 0; b-- {
		exc += hist[b+1]
		if exc > 254 {
			break
		}
		cost := n*b + exc*(8+maxW-b) + 8
		if cost < bestCost {
			bestB, bestCost = b, cost
		}
	}
	b := bestB
	e := 0
	for _, v := range vals {
		if bitWidth(v) > b {
			e++
		}
	}
	dst = append(dst, byte(b), byte(e))
	if e > 0 {
		dst = append(dst, byte(maxW-b))
	}
	mask := uint32(1)<<b - 1
	tmp = tmp[:0]
	for _, v := range vals {
		tmp = append(tmp, v&mask)
	}
	dst = appendPacked(dst, tmp, b)
	if e > 0 {
		tmp = tmp[:0]
		for i, v := range vals {
			if bitWidth(v) > b {
				dst = append(dst, byte(i))
				tmp = append(tmp, v>>b)
			}
		}
		dst = appendPacked(dst, tmp, maxW-b)
	}
	return dst
}

// decodePFor decodes len(out) values and returns the bytes consumed, or -1
// when src is malformed. scratch must hold len(out) values.
func decodePFor(out []uint32, src []byte, scratch []uint32) int {
	if len(src) < 2 {
		return -1
	}
	b, e := int(src[0]), int(src[1])
	p := 2
	hw := 0
	if e > 0 {
		if len(src) < 3 {
			return -1
		}
		hw = int(src[2])
		p = 3
	}
	n := len(out)
	if b > 32 || e > n || hw > 32 || b+hw > 32 {
		return -1
	}
	if !unpack(out, src[p:], b) {
		return -1
	}
	p += packedLen(n, b)
	if e == 0 {
		return p
	}
	if len(src) < p+e {
		return -1
	}
	pos := src[p : p+e]
	p += e
	if !unpack(scratch[:e], src[p:], hw) {
		return -1
	}
	p += packedLen(e, hw)
	for i, at := range pos {
		if int(at) >= n {
			return -1
		}
		out[at] |= scratch[i] << b
	}
	return p
}

// pforSize returns the byte length of a PFor block of n values starting at
// src without decoding it, or -1 when the header is malformed or src too
// short.
func pforSize(src []byte, n int) int {
	if len(src) < 2 {
		return -1
	}
	b, e := int(src[0]), int(src[1])
	if b > 32 || e > n {
		return -1
	}
	size := 2 + packedLen(n, b)
	if e > 0 {
		if len(src) < 3 {
			return -1
		}
		hw := int(src[2])
		if hw > 32 || b+hw > 32 {
			return -1
		}
		size += 1 + e + packedLen(e, hw)
	}
	if size > len(src) {
		return -1
	}
	return size
}

// pforAt returns value i of a PFor block of n values at src (whose size
// pforSize has checked) without decoding the others: the low bits are read
// in place and the exception list, a few bytes, is searched for i.
func pforAt(src []byte, n, i int) uint32 {
	b, e := int(src[0]), int(src[1])
	p := 2
	if e > 0 {
		p = 3
	}
	v := unpackOne(src[p:], i, b)
	if e == 0 {
		return v
	}
	low := p + packedLen(n, b)
	pos := src[low : low+e]
	for x, at := range pos {
		if int(at) == i {
			return v | unpackOne(src[low+e:], x, int(src[2]))<<b
		}
		if int(at) > i {
			break
		}
	}
	return v
}

// unpackOne reads value i of a bit-packed array of width w (the array is
// known to hold it).
func unpackOne(src []byte, i, w int) uint32 {
	if w == 0 {
		return 0
	}
	bit := i * w
	off := bit >> 3
	var word uint64
	if off+8 <= len(src) {
		word = binary.LittleEndian.Uint64(src[off:])
	} else {
		var tmp [8]byte
		copy(tmp[:], src[off:])
		word = binary.LittleEndian.Uint64(tmp[:])
	}
	return uint32(word >> (bit & 7) & (1<<w - 1))
}

// bitWriter appends values of given widths to a little-endian bit stream.
type bitWriter struct {
	buf  []byte
	acc  uint64
	nacc int
}

func (w *bitWriter) write(v uint64, width int) {
	for width > 0 {
		take := min(width, 64-w.nacc, 32)
		w.acc |= (v & (1<<take - 1)) << w.nacc
		w.nacc += take
		v >>= take
		width -= take
		for w.nacc >= 8 {
			w.buf = append(w.buf, byte(w.acc))
			w.acc >>= 8
			w.nacc -= 8
		}
	}
}

// flush pads the stream to a whole byte and returns it.
func (w *bitWriter) flush() []byte {
	if w.nacc > 0 {
		w.buf = append(w.buf, byte(w.acc))
	}
	w.acc, w.nacc = 0, 0
	return w.buf
}

// readBits returns width (<= 57) bits at bit offset bit of src; bits past
// the end read as zero (callers check the stream length first).
func readBits(src []byte, bit, width int) uint64 {
	off := bit >> 3
	var word uint64
	if off+8 <= len(src) {
		word = binary.LittleEndian.Uint64(src[off:])
	} else if off < len(src) {
		var tmp [8]byte
		copy(tmp[:], src[off:])
		word = binary.LittleEndian.Uint64(tmp[:])
	}
	return word >> (bit & 7) & (1<<width - 1)
}
