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

// FuzzLineReader: every line-based reader of the toolkit splits input with
// LineReader. Any input with any bound gives back exactly the input's lines
// (end-of-line bytes removed), an error for each line over the bound, and
// line numbers that count every line.
func FuzzLineReader(f *testing.F) {
	f.Add("a\nb\r\n\nlast", 3)
	f.Add(strings.Repeat("x", 70000)+"\ny", 100000)
	f.Add("\r\r\n\n\r", 1)
	f.Add("long line\nok\n", 4)
	f.Fuzz(func(t *testing.T, in string, max int) {
		if max < 0 || max > 1<<20 {
			return
		}
		var want []string // empty input holds no line
		if in != "" {
			want = strings.Split(strings.TrimSuffix(in, "\n"), "\n")
		}
		l := NewLineReader(strings.NewReader(in), max)
		for i, w := range want {
			w = strings.TrimSuffix(w, "\r")
			line, err := l.Next()
			if len(w) > max {
				if !errors.Is(err, ErrLineTooLong) {
					t.Fatalf("line %d (%d bytes, bound %d): %q, %v; want ErrLineTooLong", i+1, len(w), max, line, err)
				}
			} else if err != nil || string(line) != w {
				t.Fatalf("line %d: %q, %v; want %q", i+1, line, err, w)
			}
			if l.Line() != i+1 {
				t.Fatalf("line %d numbered %d", i+1, l.Line())
			}
		}
		if line, err := l.Next(); !errors.Is(err, io.EOF) {
			t.Fatalf("after %d lines: %q, %v; want EOF", len(want), line, err)
		}
	})
}
