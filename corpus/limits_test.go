package corpus

import (
	"strings"
	"testing"

	"github.com/splade-go/splade/internal/hostile"
)

// A document line four times MaxLineBytes (generated while read) is an
// error naming the file and line; reading allocates a bounded amount, not
// the line, and the documents after it are still read.
func TestEnormousLine(t *testing.T) {
	const n = 4 * MaxLineBytes
	in := hostile.Line("d1\tfirst\nd2\t", n, 'w', "\nd3\tthird\n")
	docs, errs, alloc := hostile.Drain(NewReader(in, "corpus.tsv").Next)
	var ids []string
	for _, d := range docs {
		ids = append(ids, d.ID)
	}
	hostile.CheckLongLine(t, errs, "corpus.tsv:2: line too long", alloc, 3*MaxLineBytes)
	if strings.Join(ids, ",") != "d1,d3" {
		t.Errorf("documents %v, want d1 and d3 around the long line", ids)
	}
}
