//go:build amd64

package index

import "golang.org/x/sys/cpu"

// useDotAVX2: tests switch it off to compare with the portable loop.
var useDotAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// prefetchSpan hints the CPU to fetch the n bytes at p into its caches.
//
//go:noescape
func prefetchSpan(p *byte, n int)

// dotsAVX2 is dotPortable over nb spans of terms and vals, eight lanes at
// a time, span i being [offs[i], offs[i+1]), any length, its sum stored in
// out[i]; the caller guarantees that every term indexes qw and that 8
// entries past every span's end can be read.
//
//go:noescape
func dotsAVX2(qw *float32, terms *uint16, vals *uint8, offs *uint32, nb int, out *float32)
