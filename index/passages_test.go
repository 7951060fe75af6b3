package index

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestPassageMap: every passage maps back to the document it was added
// with, whatever the reordering and spilling, and records added with Add
// into a passage index are documents of one passage.
func TestPassageMap(t *testing.T) {
	recs := randomDocs(1000, 300, 8)
	want := map[string]string{} // passage id -> document id
	var order []string          // documents by first appearance
	for _, opt := range []BuildOptions{{}, {Reorder: true, RangeSize: 8}, {MemoryBudget: 4096, Reorder: true}} {
		dir := t.TempDir()
		b, err := NewBuilder(dir, opt)
		if err != nil {
			t.Fatal(err)
		}
		clear(want)
		order = order[:0]
		seen := map[string]bool{}
		for i, r := range recs {
			// documents of 1-5 passages, interleaved with their neighbours',
			// and every 7th record a plain document (its own id)
			doc := fmt.Sprintf("D%d", (i/5)*2+i%2)
			if i%7 == 3 {
				doc = r.ID
				err = b.Add(r.ID, r.Vector)
			} else {
				err = b.AddPassage(r.ID, doc, r.Vector)
			}
			if err != nil {
				t.Fatal(err)
			}
			want[r.ID] = doc
			if !seen[doc] {
				seen[doc] = true
				order = append(order, doc)
			}
		}
		st, err := b.Finish()
		if err != nil {
			t.Fatal(err)
		}
		if st.Docs != len(recs) || st.Documents != len(order) {
			t.Fatalf("%+v: stats %d passages %d documents, want %d, %d", opt, st.Docs, st.Documents, len(recs), len(order))
		}
		ix, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !ix.HasPassages() || ix.NumDocs() != len(recs) || ix.NumDocuments() != len(order) {
			t.Fatalf("%+v: opened %v %d %d", opt, ix.HasPassages(), ix.NumDocs(), ix.NumDocuments())
		}
		for d, id := range order {
			if got := ix.DocumentID(uint32(d)); got != id {
				t.Fatalf("document %d is %q, want %q (first-appearance order)", d, got, id)
			}
			ps := ix.Passages(uint32(d))
			if len(ps) == 0 || !slices.IsSorted(ps) {
				t.Fatalf("document %q passages %v", id, ps)
			}
			for _, p := range ps {
				if want[ix.DocID(p)] != id || ix.DocumentOf(p) != uint32(d) {
					t.Fatalf("passage %q listed under %q, added under %q", ix.DocID(p), id, want[ix.DocID(p)])
				}
			}
		}
		total := 0
		for p := range uint32(ix.NumDocs()) {
			if got := ix.DocumentID(ix.DocumentOf(p)); got != want[ix.DocID(p)] {
				t.Fatalf("%+v: passage %q maps to %q, want %q", opt, ix.DocID(p), got, want[ix.DocID(p)])
			}
			total++
		}
		ix.Close()
		if total != len(recs) {
			t.Fatal("passages lost")
		}
	}
}

func TestDocumentIndexHasNoPassages(t *testing.T) {
	ix := buildOpen(t, randomDocs(50, 40, 2), BuildOptions{})
	if ix.HasPassages() || ix.NumDocuments() != 50 || ix.DocumentOf(7) != 7 || ix.DocumentID(7) != ix.DocID(7) ||
		!slices.Equal(ix.Passages(7), []uint32{7}) || ix.Meta.Documents != 0 {
		t.Fatal("a document index behaves as a passage index")
	}
}

func TestAddPassageErrors(t *testing.T) {
	recs := randomDocs(3, 20, 1)
	b, err := NewBuilder(t.TempDir(), BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort()
	if err := b.AddPassage("p", "", recs[0].Vector); err == nil || !strings.Contains(err.Error(), "empty document id") {
		t.Fatalf("empty doc: %v", err)
	}
	if err := b.AddPassage("p", "d", recs[0].Vector); err != nil {
		t.Fatal(err)
	}
	if err := b.AddPassage("p", "e", recs[1].Vector); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("repeated passage id: %v", err)
	}
	// the failed add must not shift the map
	if err := b.AddPassage("q", "e", recs[2].Vector); err != nil {
		t.Fatal(err)
	}
	if len(b.passages.docOf) != 2 || b.passages.ids[b.passages.docOf[1]] != "e" {
		t.Fatalf("map %v %v", b.passages.docOf, b.passages.ids)
	}
}
