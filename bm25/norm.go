package bm25

import "math/bits"

// Lucene does not store a document's length but one byte per document,
// SmallFloat.intToByte4(length): lengths below 24 exactly, longer ones with
// four significant bits. BM25 then uses the decoded, rounded-down length,
// so scores only match Lucene's when the same lossy norm is used.

// numFreeValues is the number of lengths encoded exactly:
// 255 - longToInt4(math.MaxInt32) = 24.
var numFreeValues = 255 - longToInt4(1<<31-1)

// longToInt4 encodes a non-negative value as a float with a 3-bit mantissa
// (plus an implicit leading bit) and the exponent in the upper bits.
func longToInt4(i uint64) uint32 {
	n := 64 - bits.LeadingZeros64(i)
	if n < 4 {
		return uint32(i) // subnormal: exact
	}
	shift := n - 4
	return uint32(i>>shift)&0x07 | uint32(shift+1)<<3
}

// int4ToLong decodes longToInt4, rounding down to the encoded precision.
func int4ToLong(i uint32) uint64 {
	b := uint64(i & 0x07)
	shift := int(i>>3) - 1
	if shift < 0 {
		return b
	}
	return (b | 0x08) << shift
}

// encodeNorm is SmallFloat.intToByte4: the norm byte of a document with
// length terms. Lengths beyond math.MaxInt32 saturate, as Lucene cannot
// index them.
func encodeNorm(length int) uint8 {
	if length < 0 {
		length = 0
	}
	if length > 1<<31-1 {
		length = 1<<31 - 1
	}
	if uint32(length) < numFreeValues {
		return uint8(length)
	}
	return uint8(numFreeValues + longToInt4(uint64(uint32(length)-numFreeValues)))
}

// decodeNorm is SmallFloat.byte4ToInt: the length BM25 uses for a norm byte.
func decodeNorm(b uint8) int {
	if uint32(b) < numFreeValues {
		return int(b)
	}
	return int(uint64(numFreeValues) + int4ToLong(uint32(b)-numFreeValues))
}
