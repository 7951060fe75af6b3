//go:build !amd64

package index

// useAddScaledAVX2: no vector path in the portable build.
var useAddScaledAVX2 = false

func addScaledAVX2(ub *uint32, m *byte, n int, w uint32) { panic("unreachable") }
