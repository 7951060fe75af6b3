package quickstart

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splade-go/splade/corpus"
	"github.com/splade-go/splade/internal/defaultmodel"
	"github.com/splade-go/splade/internal/racedetect"
	"github.com/splade-go/splade/internal/sampledata"
	"github.com/splade-go/splade/internal/shareddata"
)

// TestBM25Rows checks the quickstart's BM25 numbers: the in-memory BM25
// reproduces Anserini's SciFact regression, the impact index with u8
// impacts stays within quantization error of it, and exact processors
// agree with exhaustive search, on documents and on passages (MaxP).
func TestBM25Rows(t *testing.T) {
	if testing.Short() {
		t.Skip("quickstart end to end is not short")
	}
	rep, err := Run(Options{WorkDir: t.TempDir(), Chunk: 64, Stride: 48})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Docs != 5183 || rep.Queries != 300 || len(rep.Rows) != 7 {
		t.Fatalf("report: %d docs, %d queries, %d rows", rep.Docs, rep.Queries, len(rep.Rows))
	}
	bm := rep.Rows[0]
	if math.Abs(bm.NDCG10-0.6789) > 0.0005 || math.Abs(bm.Recall100-0.9253) > 0.0005 {
		t.Errorf("BM25 nDCG@10 %.4f R@100 %.4f, want Anserini's 0.6789 / 0.9253", bm.NDCG10, bm.Recall100)
	}
	exh, bmax := rep.Rows[1], rep.Rows[2]
	if math.Abs(exh.NDCG10-bm.NDCG10) > 0.01 {
		t.Errorf("impact index nDCG@10 %.4f strays from BM25's %.4f by more than u8 quantization explains", exh.NDCG10, bm.NDCG10)
	}
	if exh.NDCG10 != bmax.NDCG10 || exh.Recall100 != bmax.Recall100 {
		t.Errorf("exact block-max %+v differs from exhaustive %+v", bmax, exh)
	}
	// Passages of 64 words: on abstracts of ~200 words MaxP loses a
	// little to whole documents (BENCHMARKS.md), but not much.
	pexh, pbmax := rep.Rows[4], rep.Rows[5]
	if !strings.HasPrefix(pexh.System, "BM25 MaxP 64/48 words") || pexh.NDCG10 < 0.6 || pexh.NDCG10 > exh.NDCG10+0.02 {
		t.Errorf("MaxP row %+v", pexh)
	}
	if pexh.NDCG10 != pbmax.NDCG10 || pexh.Recall100 != pbmax.Recall100 {
		t.Errorf("MaxP exact block-max %+v differs from exhaustive %+v", pbmax, pexh)
	}
	var sb strings.Builder
	rep.Print(&sb)
	if !strings.Contains(sb.String(), "BM25 impacts, block-max (exact)") {
		t.Errorf("printed report lacks the block-max row:\n%s", sb.String())
	}
}

// TestWithModel runs the SPLADE rows with the small random-weight test
// checkpoint: it checks the pipeline, not effectiveness.
func TestWithModel(t *testing.T) {
	if testing.Short() {
		t.Skip("quickstart end to end is not short")
	}
	root, err := shareddata.Root()
	if err != nil {
		t.Fatal(err)
	}
	modelDir := filepath.Join(root, "model", "testdata", "distilbert")
	if racedetect.Enabled {
		withModelSubset(t, modelDir)
		return
	}
	rep, err := Run(Options{WorkDir: t.TempDir(), ModelDir: modelDir, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 7 {
		t.Fatalf("got %d rows, want 7", len(rep.Rows))
	}
	sp := rep.Rows[4]
	if !strings.HasPrefix(sp.System, "SPLADE") || sp.NDCG10 < 0 || sp.NDCG10 > 1 {
		t.Errorf("SPLADE row %+v", sp)
	}
	if rep.Rows[4].NDCG10 != rep.Rows[5].NDCG10 {
		t.Errorf("SPLADE exact block-max %.4f != exhaustive %.4f", rep.Rows[5].NDCG10, rep.Rows[4].NDCG10)
	}
}

// withModelSubset is TestWithModel under the race detector, which makes the
// whole run (5,183 documents encoded, 300 queries in three query processors
// over vectors of a random-weight model) take over ten minutes: the same
// SPLADE stages on the first 400 documents and the 30 queries judged
// against them.
func withModelSubset(t *testing.T, modelDir string) {
	docs, err := readAll(sampledata.Corpus())
	if err != nil {
		t.Fatal(err)
	}
	queries, err := readAll(sampledata.Queries(), nil)
	if err != nil {
		t.Fatal(err)
	}
	qrels, err := sampledata.Qrels()
	if err != nil {
		t.Fatal(err)
	}
	docs = docs[:400]
	kept := map[string]bool{}
	for _, d := range docs {
		kept[d.ID] = true
	}
	var qs []corpus.Doc
	for _, q := range queries {
		for d := range qrels[q.ID] {
			if kept[d] && len(qs) < 30 {
				qs = append(qs, q)
				break
			}
		}
	}
	if len(qs) == 0 {
		t.Fatal("no query judged against the first documents")
	}
	o := Options{ModelDir: modelDir, Threads: 2}
	o.Progress = func(string, int) (func(int), func()) { return func(int) {}, func() {} }
	rows, _, err := runSPLADE(o, t.TempDir(), docs, qs, qrels)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || !strings.HasPrefix(rows[0].System, "SPLADE") || rows[0].NDCG10 < 0 || rows[0].NDCG10 > 1 {
		t.Fatalf("rows %+v", rows)
	}
	if rows[0].NDCG10 != rows[1].NDCG10 {
		t.Errorf("SPLADE exact block-max %.4f != exhaustive %.4f", rows[1].NDCG10, rows[0].NDCG10)
	}
}

// TestDefaultModel reproduces the embedded model's documented SciFact test
// figures (internal/defaultmodel/MODEL_CARD.md, README): nDCG@10 0.7458 and
// Recall@100 0.9387 with the quickstart's u8 index, above BM25. The
// tolerance covers the last-bit differences between the AVX2 and AVX-512
// kernel paths, which can reorder near-tied documents; nothing more.
func TestDefaultModel(t *testing.T) {
	if testing.Short() {
		t.Skip("quickstart end to end is not short")
	}
	if racedetect.Enabled {
		t.Skip("encoding 5,183 documents at 512 tokens takes too long under the race detector")
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir, err := defaultmodel.Path()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(Options{WorkDir: t.TempDir(), ModelDir: dir, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	bm, sp := rep.Rows[0], rep.Rows[4]
	if !strings.HasPrefix(sp.System, "SPLADE, exhaustive") {
		t.Fatalf("row 4 is %q, want SPLADE, exhaustive", sp.System)
	}
	if math.Abs(sp.NDCG10-0.7458) > 0.001 || math.Abs(sp.Recall100-0.9387) > 0.001 {
		t.Errorf("default model nDCG@10 %.4f R@100 %.4f, documented 0.7458 / 0.9387", sp.NDCG10, sp.Recall100)
	}
	if sp.NDCG10 <= bm.NDCG10 {
		t.Errorf("default model nDCG@10 %.4f does not beat BM25's %.4f", sp.NDCG10, bm.NDCG10)
	}
	for _, r := range rep.Rows[5:] {
		if strings.Contains(r.System, "exact") && (r.NDCG10 != sp.NDCG10 || r.Recall100 != sp.Recall100) {
			t.Errorf("%s %+v differs from exhaustive %+v", r.System, r, sp)
		}
	}
}
