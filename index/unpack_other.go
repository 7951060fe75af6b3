//go:build !amd64

package index

// vectorWidth: no vector path in the portable build.
var vectorWidth = 0

// unpackVector is the portable build's: no vector path.
func unpackVector(out []uint32, src []byte, w int) int { return 0 }

// useVectorUnpack reports whether unpack uses a vector path: never here.
func useVectorUnpack() bool { return false }
