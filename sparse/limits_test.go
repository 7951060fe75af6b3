package sparse

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splade-go/splade/internal/fileio"
	"github.com/splade-go/splade/internal/hostile"
)

// A line far longer than MaxLineBytes (256 MiB, four times the bound, generated while
// read) is an
// error naming the file and line, reading allocates a bounded amount (not
// the line), and the records after it are still read.
func TestEnormousLine(t *testing.T) {
	const n = 4 * MaxLineBytes
	in := hostile.Line(`{"id":"a","vector":{"x":1}}`+"\n"+`{"id":"b","vector":{"`, n, 'y', `":1}}`+"\n"+`{"id":"c","vector":{"z":2}}`+"\n")
	r := NewReader(in, "huge.jsonl")
	var got []string
	var errs []error
	alloc := hostile.Allocated(func() {
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			got = append(got, rec.ID)
		}
	})
	if len(errs) != 1 || !errors.Is(errs[0], fileio.ErrLineTooLong) || !strings.HasPrefix(errs[0].Error(), "huge.jsonl:2: line too long") {
		t.Fatalf("errors %v, want one %q", errs, "huge.jsonl:2: line too long")
	}
	if strings.Join(got, ",") != "a,c" {
		t.Errorf("records %v, want a and c around the long line", got)
	}
	if alloc > 3*MaxLineBytes {
		t.Errorf("reading a %d MiB line allocated %d MiB, want at most %d MiB (3x the line bound)", n/hostile.MiB, alloc/hostile.MiB, 3*MaxLineBytes/hostile.MiB)
	}
	t.Logf("%d MiB line: %d MiB allocated", n/hostile.MiB, alloc/hostile.MiB)
}

// The same through a file on disk, just over the bound: the error names the
// path and the line.
func TestEnormousLineInFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vectors.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	in := hostile.Line(`{"id":"a","vector":{"x":1}}`+"\n\n"+`{"id":"b","text":"`, MaxLineBytes, 'y', `","vector":{}}`+"\n")
	if _, err := io.Copy(f, in); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	_, err = r.Next()
	if want := path + ":3: line too long"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("got %v, want %q", err, want)
	}
}
