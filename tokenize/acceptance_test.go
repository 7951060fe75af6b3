package tokenize

import (
	"bufio"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splade-go/splade/internal/fileio"
	"github.com/splade-go/splade/internal/shareddata"
)

// readTSV reads id<TAB>text lines into a map and the ids in file order.
func readTSV(t *testing.T, path string) (map[string]string, []string) {
	t.Helper()
	f, err := fileio.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]string{}
	var ids []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		id, text, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("%s:%d: no tab", path, n)
		}
		if _, dup := m[id]; dup {
			t.Fatalf("%s:%d: duplicate id %s", path, n, id)
		}
		m[id] = text
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return m, ids
}

// TestReferenceWordPieces compares every query of the MS MARCO topic files
// with its tokenization by the reference Hugging Face tokenizer
// (bert-base-uncased). Every line must match.
func TestReferenceWordPieces(t *testing.T) {
	dir := shareddata.Require(t, "msmarco-queries")
	tok, err := Load(shareddata.Require(t, "bert-base-uncased"))
	if err != nil {
		t.Fatal(err)
	}
	refs, err := filepath.Glob(filepath.Join(dir, "*.wp.tsv.gz"))
	if err != nil || len(refs) == 0 {
		t.Fatalf("no *.wp.tsv.gz in %s (%v)", dir, err)
	}
	for _, ref := range refs {
		raw := strings.TrimSuffix(ref, ".wp.tsv.gz") + ".txt"
		t.Run(filepath.Base(ref), func(t *testing.T) {
			want, ids := readTSV(t, ref)
			queries, _ := readTSV(t, raw)
			mismatches := 0
			for _, id := range ids {
				q, ok := queries[id]
				if !ok {
					t.Fatalf("%s: query %s not in %s", ref, id, raw)
				}
				got := strings.Join(tok.Tokenize(q), " ")
				if got != want[id] {
					mismatches++
					if mismatches <= 10 {
						t.Errorf("query %s %q:\n got %q\nwant %q", id, q, got, want[id])
					}
				}
			}
			t.Logf("%d queries, %d mismatches", len(ids), mismatches)
			if mismatches > 0 {
				t.Errorf("%d of %d queries differ from the reference", mismatches, len(ids))
			}
		})
	}
}
