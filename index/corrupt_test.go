package index

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/splade-go/splade/sparse"
)

// generationFiles lists the files of the index in dir (passages.bin only
// in a passage index).
func generationFiles(t testing.TB, dir string) (string, []string) {
	t.Helper()
	gen, err := readCurrent(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range fileKinds {
		if _, err := os.Stat(filepath.Join(dir, gen, name)); err == nil {
			names = append(names, name)
		}
	}
	return filepath.Join(dir, gen), names
}

// asPassages makes records passages of documents of 1 to 4 passages each.
func asPassages(recs []sparse.Record) []sparse.Record {
	out := slices.Clone(recs)
	for i := range out {
		out[i].Doc = fmt.Sprintf("D%d", i/(1+i%4))
	}
	return out
}

// TestCorruptionDetected flips one byte at several places of every file
// and expects Open to fail naming that file.
func TestCorruptionDetected(t *testing.T) {
	for _, passages := range []bool{false, true} {
		docs := randomDocs(300, 100, 3)
		if passages {
			docs = asPassages(docs)
		}
		testCorruption(t, docs)
	}
}

func testCorruption(t *testing.T, docs []sparse.Record) {
	dir := t.TempDir()
	build(t, dir, docs, BuildOptions{})
	gdir, names := generationFiles(t, dir)
	for _, name := range names {
		path := filepath.Join(gdir, name)
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, at := range []int{0, 9, 13, 17, 25, 29, headerSize, headerSize + (len(orig)-headerSize)/2, len(orig) - 1} {
			if at >= len(orig) {
				continue
			}
			bad := append([]byte(nil), orig...)
			bad[at] ^= 0x5a
			if err := os.WriteFile(path, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			ix, err := Open(dir)
			if err == nil {
				ix.Close()
				t.Fatalf("%s: flipped byte %d not detected", name, at)
			}
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("%s byte %d: error %q does not name the file", name, at, err)
			}
		}
		// truncation and a missing file
		os.WriteFile(path, orig[:len(orig)-1], 0o644)
		if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), name) {
			t.Fatalf("%s: truncation: %v", name, err)
		}
		os.Remove(path)
		if _, err := Open(dir); err == nil {
			t.Fatalf("%s: missing file not detected", name)
		}
		os.WriteFile(path, orig, 0o644)
	}
	ix, err := Open(dir)
	if err != nil {
		t.Fatalf("restored index does not open: %v", err)
	}
	ix.Close()
	// CURRENT problems
	cur := filepath.Join(dir, currentFile)
	for _, content := range []string{"", "garbage\n", "splade-index 1\n../etc\n", "splade-index 1\ngen-999999\n"} {
		os.WriteFile(cur, []byte(content), 0o644)
		if _, err := Open(dir); err == nil {
			t.Fatalf("CURRENT %q accepted", content)
		}
	}
}

// TestGenerations: an unfinished or aborted build leaves the previous
// index opening; a finished one replaces it and removes the old generation.
func TestGenerations(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, randomDocs(100, 50, 1), BuildOptions{})
	b, err := NewBuilder(dir, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	docs := randomDocs(250, 50, 2)
	for _, d := range docs {
		if err := b.Add(d.ID, d.Vector); err != nil {
			t.Fatal(err)
		}
	}
	ix, err := Open(dir)
	if err != nil || ix.NumDocs() != 100 {
		t.Fatalf("during a build: %v", err)
	}
	ix.Close()
	b.Abort()
	if ix, err = Open(dir); err != nil || ix.NumDocs() != 100 {
		t.Fatalf("after abort: %v", err)
	}
	ix.Close()
	old := ix.Dir()
	build(t, dir, docs, BuildOptions{})
	if ix, err = Open(dir); err != nil || ix.NumDocs() != 250 {
		t.Fatalf("after rebuild: %v", err)
	}
	ix.Close()
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatalf("old generation %s not removed", old)
	}
	if _, err := Open(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no index") {
		t.Fatalf("empty dir: %v", err)
	}
}

// FuzzIndexFiles replaces one file of a valid index with fuzzed bytes,
// either raw or wrapped in a valid header and checksum so that the
// structural checks behind the checksum are exercised too. Open must fail
// cleanly or yield an index whose every read path works without panicking.
func FuzzIndexFiles(f *testing.F) {
	dir := f.TempDir()
	build(f, dir, asPassages(randomDocs(200, 60, 4)), BuildOptions{RangeSize: 16})
	gen, err := readCurrent(dir)
	if err != nil {
		f.Fatal(err)
	}
	gdir := filepath.Join(dir, gen)
	names := []string{fileMeta, fileTerms, filePostings, fileBlocks, fileDocs, filePassages}
	images := map[string][]byte{}
	for i, name := range names {
		b, err := os.ReadFile(filepath.Join(gdir, name))
		if err != nil {
			f.Fatal(err)
		}
		images[name] = b
		f.Add(uint8(i), b[headerSize:], true)
		f.Add(uint8(i), b, false)
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte, wrap bool) {
		target := names[int(which)%len(names)]
		img := data
		if wrap {
			img = append(makeHeader(fileKinds[target], uint64(len(data)), crc32Checksum(data)), data...)
		}
		// with the default views, then with every term viewed
		defer func(d float64) { ViewDensity = d }(ViewDensity)
		for _, density := range []float64{ViewDensity, 0} {
			ViewDensity = density
			ix := &Index{dir: gdir}
			err := ix.parse(func(name string) ([]byte, error) {
				b := images[name]
				if name == target {
					b = img
				}
				return checkHeader(b, fileKinds[name])
			})
			if err != nil {
				return
			}
			exercise(ix)
		}
	})
}

// exercise touches every read path of an opened index.
func exercise(ix *Index) {
	ix.WarmBoundViews(context.Background())
	var c Cursor
	var pb PairBlock
	acc := make([]float64, ix.NumDocs())
	ub := make([]uint32, ix.NumRanges())
	ranges := make([]uint32, 0, ix.NumRanges())
	for r := 0; r < ix.NumRanges(); r += 2 {
		ranges = append(ranges, uint32(r))
	}
	racc := make([]float64, len(ranges)*ix.RangeSize())
	for t := 0; t < ix.NumTerms(); t++ {
		ix.Term(uint32(t))
		ix.KthImpact(uint32(t), 10)
		for c.Open(ix, uint32(t)); c.Doc() != End; c.Next() {
			_ = c.Impact()
		}
		c.Open(ix, uint32(t))
		c.NextGEQ(uint32(ix.NumDocs() / 2))
		c.NextGEQ(End - 1)
		ix.ScoreTerm(uint32(t), 1, acc, &pb)
		var known KnownPairs
		ix.AddBounds(uint32(t), 1, ub, &pb, &known)
		ix.ScoreRanges(uint32(t), 1, ranges, racc, &pb, nil)
		ix.ScoreRanges(uint32(t), 1, ranges, racc, &pb, &known)
		bound := make([]uint32, len(ranges))
		ix.ScoreRangesBound(uint32(t), 1, 1, ranges, racc, bound, &pb, &known)
	}
	ix.Entropy()
	for d := 0; d < ix.NumDocs(); d++ {
		ix.DocID(uint32(d))
		ix.DocumentID(ix.DocumentOf(uint32(d)))
	}
	for d := 0; d < ix.NumDocuments(); d++ {
		ix.Passages(uint32(d))
	}
}
