package corpus

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/splade-go/splade/internal/fileio"
	"github.com/splade-go/splade/internal/hostile"
)

// A document line four times MaxLineBytes (generated while read) is an
// error naming the file and line; reading allocates a bounded amount, not
// the line, and the documents after it are still read.
func TestEnormousLine(t *testing.T) {
	const n = 4 * MaxLineBytes
	in := hostile.Line("d1\tfirst\nd2\t", n, 'w', "\nd3\tthird\n")
	r := NewReader(in, "corpus.tsv")
	var ids []string
	var errs []error
	alloc := hostile.Allocated(func() {
		for {
			d, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			ids = append(ids, d.ID)
		}
	})
	if len(errs) != 1 || !errors.Is(errs[0], fileio.ErrLineTooLong) || !strings.HasPrefix(errs[0].Error(), "corpus.tsv:2: line too long") {
		t.Fatalf("errors %v, want one %q", errs, "corpus.tsv:2: line too long")
	}
	if strings.Join(ids, ",") != "d1,d3" {
		t.Errorf("documents %v, want d1 and d3 around the long line", ids)
	}
	if alloc > 3*MaxLineBytes {
		t.Errorf("reading a %d MiB line allocated %d MiB, want at most %d MiB", n/hostile.MiB, alloc/hostile.MiB, 3*MaxLineBytes/hostile.MiB)
	}
}
