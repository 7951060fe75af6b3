//go:build amd64

package index

import "golang.org/x/sys/cpu"

// unpackTab is what unpack8AVX2 needs for one width: the byte shuffle that
// puts each value's four bytes in its lane, each lane's right shift, and
// the value mask.
type unpackTab struct {
	shuf  [32]byte
	shift [8]uint32
	mask  [8]uint32
}

//go:noescape
func unpack8AVX2(out *uint32, src *byte, groups int, w int, tab *unpackTab)

// maxVectorWidth is the widest value unpack8AVX2 decodes: a value and its
// offset in its first byte (up to 7 bits) fit one 32-bit lane.
const maxVectorWidth = 25

var (
	useAVX2     = cpu.X86.HasAVX2
	unpackTabs  = makeUnpackTabs()
	vectorWidth = maxVectorWidth // tests lower it to 0 for the portable path
)

func makeUnpackTabs() *[maxVectorWidth + 1]unpackTab {
	var tabs [maxVectorWidth + 1]unpackTab
	for w := 1; w <= maxVectorWidth; w++ {
		t := &tabs[w]
		hb := 4 * w / 8 // first byte of value 4, where the high lane's load starts
		for k := 0; k < 8; k++ {
			off := k * w // bit offset from the lane's load
			if k >= 4 {
				off -= 8 * hb
			}
			for j := 0; j < 4; j++ {
				t.shuf[4*k+j] = byte(off/8 + j)
			}
			t.shift[k] = uint32(off % 8)
			t.mask[k] = 1<<w - 1
		}
	}
	return &tabs
}

// unpackVector decodes as many whole groups of 8 values of out as it can
// with AVX2 and returns how many values it decoded (a multiple of 8); the
// caller decodes the rest. src holds at least packedLen(len(out), w)
// bytes.
func unpackVector(out []uint32, src []byte, w int) int {
	if !useAVX2 || w < 1 || w > vectorWidth || len(out) < 16 {
		return 0
	}
	// group g reads bytes [g*w, g*w+16) and [g*w+w/2, g*w+w/2+16)
	g := len(out) / 8
	if len(src) < 16+w/2 {
		return 0
	}
	g = min(g, (len(src)-16-w/2)/w+1) // >= 1: len(src) >= 16+w/2
	unpack8AVX2(&out[0], &src[0], g, w, &unpackTabs[w])
	return 8 * g
}

// useVectorUnpack reports whether unpack uses the AVX2 path on this CPU.
func useVectorUnpack() bool { return useAVX2 }
