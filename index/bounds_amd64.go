//go:build amd64

package index

import "golang.org/x/sys/cpu"

// useAddScaledAVX2: tests switch it off to compare with the portable loop.
var useAddScaledAVX2 = cpu.X86.HasAVX2

// addScaledAVX2 is addScaledPortable over n entries, n a multiple of 16.
//
//go:noescape
func addScaledAVX2(ub *uint32, m *byte, n int, w uint32)
