package fileio

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestLineReader(t *testing.T) {
	in := "short\r\n" + strings.Repeat("x", 100) + "\nlast"
	l := NewLineReader(strings.NewReader(in), 50)
	line, err := l.Next()
	if err != nil || string(line) != "short" || l.Line() != 1 {
		t.Fatalf("line 1 = %q, %v", line, err)
	}
	if _, err := l.Next(); !errors.Is(err, ErrLineTooLong) || l.Line() != 2 {
		t.Fatalf("line 2: err %v at line %d, want ErrLineTooLong at 2", err, l.Line())
	}
	line, err = l.Next()
	if err != nil || string(line) != "last" || l.Line() != 3 {
		t.Fatalf("line 3 = %q, %v (line %d)", line, err, l.Line())
	}
	if _, err := l.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("want EOF, got %v", err)
	}
}

func TestLongLineAcrossBuffers(t *testing.T) {
	// Longer than bufio's 64 KiB buffer but within the bound.
	long := strings.Repeat("y", 200_000)
	l := NewLineReader(strings.NewReader(long+"\nz\n"), 1<<20)
	line, err := l.Next()
	if err != nil || len(line) != len(long) {
		t.Fatalf("got %d bytes, %v", len(line), err)
	}
	if line, err := l.Next(); err != nil || string(line) != "z" {
		t.Fatalf("got %q, %v", line, err)
	}
}

// failingReader returns its data, then err.
type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// A read error counts as the line being read, so that callers naming
// Line() in the message point at it, as for a line that is too long.
func TestLineOfReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	l := NewLineReader(&failingReader{data: "one\ntwo\nthr", err: boom}, 50)
	for range 2 {
		if _, err := l.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Next(); !errors.Is(err, boom) || l.Line() != 3 {
		t.Fatalf("err %v at line %d, want %v at line 3", err, l.Line(), boom)
	}
}
