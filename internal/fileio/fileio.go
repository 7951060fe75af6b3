// Package fileio opens input files the way every reader of the toolkit
// needs: transparently decompressing gzip, and splitting lines with a bound
// on their length so that one enormous line cannot exhaust memory.
package fileio

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
)

// File is an opened input, possibly decompressed.
type File struct {
	io.Reader
	f  *os.File
	gz *gzip.Reader
}

// Close closes the decompressor and the file.
func (f *File) Close() error {
	if f.gz != nil {
		f.gz.Close()
	}
	return f.f.Close()
}

// Open opens path for reading; "-" is standard input. Content that starts
// with the gzip magic bytes is decompressed whatever the file is named.
func Open(path string) (*File, error) {
	var f *os.File
	if path == "-" {
		f = os.Stdin
	} else {
		var err error
		f, err = os.Open(path)
		if err != nil {
			return nil, err
		}
		if st, err := f.Stat(); err == nil && st.IsDir() {
			f.Close()
			return nil, fmt.Errorf("%s: is a directory, expected a file", path)
		}
	}
	r, err := NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	gz, _ := r.(*gzip.Reader)
	return &File{Reader: r, f: f, gz: gz}, nil
}

// ErrLineTooLong is returned for a line longer than the reader's bound.
var ErrLineTooLong = errors.New("line too long")

// LineReader splits input into lines without their end-of-line bytes.
type LineReader struct {
	r    *bufio.Reader
	max  int
	line int
	buf  []byte
}

// NewLineReader reads lines of at most max bytes from r.
func NewLineReader(r io.Reader, max int) *LineReader {
	return &LineReader{r: bufio.NewReaderSize(r, 1<<16), max: max}
}

// Line returns the 1-based number of the line returned last, or of the
// line that failed when Next returned an error other than io.EOF, so that
// callers name the right line in every message.
func (l *LineReader) Line() int { return l.line }

// Next returns the next line (valid until the following call), io.EOF at the
// end, or ErrLineTooLong wrapped with the limit.
func (l *LineReader) Next() ([]byte, error) {
	l.buf = l.buf[:0]
	for {
		chunk, err := l.r.ReadSlice('\n')
		if len(l.buf)+len(chunk) > l.max+2 {
			// Drain the rest of the line so that the caller may continue.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = l.r.ReadSlice('\n')
			}
			l.line++
			return nil, fmt.Errorf("%w (over %d bytes)", ErrLineTooLong, l.max)
		}
		if need := len(l.buf) + len(chunk); need > cap(l.buf) {
			// Grow by doubling, never past the bound: reading a line then
			// allocates at most twice the bound in all, however long the
			// line is.
			nb := make([]byte, len(l.buf), min(max(2*cap(l.buf), need, 4096), l.max+2))
			copy(nb, l.buf)
			l.buf = nb
		}
		l.buf = append(l.buf, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			l.line++
			return nil, err
		}
		if len(l.buf) == 0 && err != nil {
			return nil, io.EOF
		}
		l.line++
		l.buf = bytes.TrimSuffix(l.buf, []byte{'\n'})
		l.buf = bytes.TrimSuffix(l.buf, []byte{'\r'})
		if len(l.buf) > l.max {
			return nil, fmt.Errorf("%w (over %d bytes)", ErrLineTooLong, l.max)
		}
		return l.buf, nil
	}
}

// NewReader returns r, decompressed when its content starts with the gzip
// magic bytes.
func NewReader(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		return gzip.NewReader(br)
	}
	return br, nil
}
