// Package hostile makes the inputs of the reliability tests (enormous
// lines, headers that declare far more data than they hold) and measures
// what reading them allocated, so that a test can show a reader refused an
// input without allocating what it declared.
package hostile

import (
	"io"
	"runtime"
	"strings"
)

// Line returns a reader of prefix, then n bytes of fill (a line of at least
// n bytes when fill holds no newline), then suffix. The long part is
// generated while it is read, never held in memory, so n may be far larger
// than the test's memory.
func Line(prefix string, n int64, fill byte, suffix string) io.Reader {
	return io.MultiReader(strings.NewReader(prefix), io.LimitReader(fillReader(fill), n), strings.NewReader(suffix))
}

type fillReader byte

func (f fillReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(f)
	}
	return len(p), nil
}

// Allocated returns the bytes allocated on the heap while f ran (the growth
// of runtime.MemStats.TotalAlloc): every allocation counts, freed or not,
// so a bound on it bounds the peak too. Other goroutines' allocations are
// included; tests that use it do not run in parallel.
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// MiB is a mebibyte, for readable bounds.
const MiB = 1 << 20
