// Package hostile makes the inputs of the reliability tests (enormous
// lines, headers that declare far more data than they hold) and measures
// what reading them allocated, so that a test can show a reader refused an
// input without allocating what it declared.
package hostile

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/splade-go/splade/internal/fileio"
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

// Drain calls next until io.EOF, collecting the values and the errors (a
// reader that reports a bad record may go on to the next), and measures
// what the whole reading allocated.
func Drain[T any](next func() (T, error)) (vals []T, errs []error, allocated uint64) {
	allocated = Allocated(func() {
		for {
			v, err := next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			vals = append(vals, v)
		}
	})
	return vals, errs, allocated
}

// CheckLongLine checks the errors and the allocation of reading an input
// holding one line over the reader's bound: one error, fileio's
// ErrLineTooLong, whose message starts with want ("name:line: line too
// long"), and at most bound bytes allocated.
func CheckLongLine(t testing.TB, errs []error, want string, allocated, bound uint64) {
	t.Helper()
	if len(errs) != 1 || !errors.Is(errs[0], fileio.ErrLineTooLong) || !strings.HasPrefix(errs[0].Error(), want) {
		t.Fatalf("errors %v, want one %q", errs, want)
	}
	if allocated > bound {
		t.Errorf("reading the line allocated %d MiB, want at most %d MiB", allocated/MiB, bound/MiB)
	}
	t.Logf("%d MiB allocated", allocated/MiB)
}
