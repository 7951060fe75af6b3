//go:build !amd64

package index

// useDotAVX2: no vector path in the portable build.
var useDotAVX2 = false

func dotsAVX2(qw *float32, terms *uint16, vals *uint8, offs *uint32, nb int, out *float32) {
	panic("unreachable")
}

func prefetchSpan(p *byte, n int) {}
