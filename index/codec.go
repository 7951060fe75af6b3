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
func unpack(out []uint32, src []byte, w int) bool {
	if w == 0 {
		clear(out)
		return true
	}
	if w > 32 || len(src) < packedLen(len(out), w) {
		return false
	}
	mask := uint64(1)<<w - 1
	bit := 0
	// Fast path: whole 8-byte loads while they stay inside src.
	i := 0
	for ; i < len(out); i++ {
		byteOff := bit >> 3
		if byteOff+8 > len(src) {
			break
		}
		out[i] = uint32((binary.LittleEndian.Uint64(src[byteOff:]) >> (bit & 7)) & mask)
		bit += w
	}
	for ; i < len(out); i++ {
		byteOff := bit >> 3
		var tmp [8]byte
		copy(tmp[:], src[byteOff:])
		out[i] = uint32((binary.LittleEndian.Uint64(tmp[:]) >> (bit & 7)) & mask)
		bit += w
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
