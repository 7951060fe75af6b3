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
