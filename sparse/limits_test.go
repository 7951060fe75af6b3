package sparse

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splade-go/splade/internal/hostile"
)

// A line far longer than MaxLineBytes (256 MiB, four times the bound,
// generated while read) is an error naming the file and line, reading
// allocates a bounded amount (not the line), and the records after it are
// still read.
func TestEnormousLine(t *testing.T) {
	const n = 4 * MaxLineBytes
	in := hostile.Line(`{"id":"a","vector":{"x":1}}`+"\n"+`{"id":"b","vector":{"`, n, 'y', `":1}}`+"\n"+`{"id":"c","vector":{"z":2}}`+"\n")
	recs, errs, alloc := hostile.Drain(NewReader(in, "huge.jsonl").Next)
	var got []string
	for _, r := range recs {
		got = append(got, r.ID)
	}
	hostile.CheckLongLine(t, errs, "huge.jsonl:2: line too long", alloc, 3*MaxLineBytes)
	if strings.Join(got, ",") != "a,c" {
		t.Errorf("records %v, want a and c around the long line", got)
	}
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
