// Package quickstart runs the whole toolkit end to end on the bundled
// sample collection (BEIR SciFact test, package internal/sampledata), as
// `splade quickstart` does: the Lucene-exact BM25 baseline, the same BM25
// run as impact vectors through the compressed index and every query
// processor, and, given a SPLADE checkpoint, the SPLADE pipeline
// (encode -> index -> search -> evaluate) next to BM25.
//
// It exists so that a newcomer sees every stage work, with effectiveness
// and speed, in one command and without a download; it is also an
// executable example of the library packages used together.
package quickstart

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/splade-go/splade/bm25"
	"github.com/splade-go/splade/corpus"
	"github.com/splade-go/splade/eval"
	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/internal/sampledata"
	"github.com/splade-go/splade/model"
	"github.com/splade-go/splade/search"
	"github.com/splade-go/splade/sparse"
	"github.com/splade-go/splade/tokenize"
)

// Options configure a run. The zero value runs the BM25 parts in a
// temporary directory.
type Options struct {
	// ModelDir is a SPLADE checkpoint in Hugging Face layout; empty skips
	// the SPLADE rows.
	ModelDir string
	// WorkDir receives the indexes; empty means a temporary directory that
	// is removed afterwards.
	WorkDir string
	// Threads for encoding (0: all cores). Searches run one query at a
	// time on one goroutine, so latencies are single-threaded.
	Threads int
	// Chunk, when > 0, adds passage rows: documents split into passages of
	// Chunk tokens starting every Stride tokens (0: Chunk), indexed as
	// passages and searched by best passage (MaxP). The tokens are
	// whitespace-separated words for BM25 and wordpieces for SPLADE.
	Chunk, Stride int
	// Progress, if set, is called to report a long stage: it returns a
	// function that adds n finished items and one that ends the stage.
	Progress func(stage string, total int) (add func(n int), done func())
}

// Row is one system's line in the report.
type Row struct {
	System    string
	NDCG10    float64
	Recall100 float64
	MeanMs    float64 // mean single-threaded query latency, ms
	Note      string
}

// Report is the outcome of a run.
type Report struct {
	Collection string
	Docs       int
	Queries    int
	Rows       []Row
	Stages     []string // what ran, with sizes and times
}

// Run executes the quickstart.
func Run(o Options) (*Report, error) {
	if o.Progress == nil {
		o.Progress = func(string, int) (func(int), func()) { return func(int) {}, func() {} }
	}
	work := o.WorkDir
	if work == "" {
		d, err := os.MkdirTemp("", "splade-quickstart-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		work = d
	}
	docs, err := readAll(sampledata.Corpus())
	if err != nil {
		return nil, fmt.Errorf("sample corpus: %w", err)
	}
	queries, err := readAll(sampledata.Queries(), nil)
	if err != nil {
		return nil, fmt.Errorf("sample queries: %w", err)
	}
	qrels, err := sampledata.Qrels()
	if err != nil {
		return nil, err
	}
	rep := &Report{Collection: sampledata.Name, Docs: len(docs), Queries: len(queries)}

	// 1. BM25 exactly as Anserini runs it.
	start := time.Now()
	b := bm25.NewBuilder(nil)
	add, done := o.Progress("BM25 indexing", len(docs))
	for _, d := range docs {
		if err := b.Add(d.ID, d.Contents()); err != nil {
			return nil, err
		}
		add(1)
	}
	bix := b.Build()
	done()
	bq := make([]bm25.Query, len(queries))
	for i, q := range queries {
		bq[i] = bm25.Query{ID: q.ID, Text: q.Contents()}
	}
	t0 := time.Now()
	res, err := bix.SearchAll(bq, bm25.Options{Params: bm25.AnseriniParams, K: 100, Workers: 1, RemoveQueryID: true})
	if err != nil {
		return nil, err
	}
	lat := time.Since(t0)
	run := eval.Run{}
	for i, rs := range res {
		for _, r := range rs {
			run[queries[i].ID] = append(run[queries[i].ID], eval.Result{DocID: r.DocID, Score: float64(r.Score)})
		}
	}
	row, err := evaluate("BM25 (Lucene-exact, in memory)", qrels, run)
	if err != nil {
		return nil, err
	}
	row.MeanMs = ms(lat) / float64(len(queries))
	rep.Rows = append(rep.Rows, row)
	rep.Stages = append(rep.Stages, fmt.Sprintf("BM25: %d docs, %d terms, indexed and searched in %v", bix.NumDocs(), bix.NumTerms(), time.Since(start).Round(time.Millisecond)))

	// 2. The same BM25 as impact vectors through the compressed index.
	vecs := make([]sparse.Record, 0, len(docs))
	if err := bix.DocVectors(bm25.AnseriniParams, func(id string, v sparse.Vector) error {
		vecs = append(vecs, sparse.Record{ID: id, Vector: v})
		return nil
	}); err != nil {
		return nil, err
	}
	qv := make([]sparse.Vector, len(queries))
	for i, q := range queries {
		qv[i] = bix.QueryVector(q.Contents())
	}
	rows, stage, err := indexAndSearch(work+"/bm25-impact", "BM25 impacts", vecs, queries, qv, qrels)
	if err != nil {
		return nil, err
	}
	rep.Rows = append(rep.Rows, rows...)
	rep.Stages = append(rep.Stages, stage)

	// 2b. BM25 impacts of passages, documents scored by their best passage.
	if o.Chunk > 0 {
		rows, stage, err := bm25Passages(o, work, docs, queries, qrels)
		if err != nil {
			return nil, err
		}
		rep.Rows = append(rep.Rows, rows...)
		rep.Stages = append(rep.Stages, stage)
	}

	// 3. SPLADE, given a checkpoint.
	if o.ModelDir != "" {
		rows, stage, err := runSPLADE(o, work, docs, queries, qrels)
		if err != nil {
			return nil, err
		}
		rep.Rows = append(rep.Rows, rows...)
		rep.Stages = append(rep.Stages, stage...)
	}
	return rep, nil
}

// DocLength is the document length (tokens, [CLS] and [SEP] included) of
// the SPLADE rows, capped by the model's positions: SciFact abstracts run
// to 300-500 wordpieces, and the default model was trained on 512.
const DocLength = 512

func runSPLADE(o Options, work string, docs, queries []corpus.Doc, qrels eval.Qrels) ([]Row, []string, error) {
	m, tok, err := model.LoadWithTokenizer(o.ModelDir)
	if err != nil {
		return nil, nil, err
	}
	encode := func(texts []corpus.Doc, maxLen int, what string) ([]sparse.Vector, time.Duration, error) {
		enc, err := model.NewEncoder(m, tok, model.Options{MaxLength: maxLen, Threads: o.Threads})
		if err != nil {
			return nil, 0, err
		}
		add, done := o.Progress(what, len(texts))
		defer done()
		start := time.Now()
		out := make([]sparse.Vector, 0, len(texts))
		const batch = 32
		for i := 0; i < len(texts); i += batch {
			strs := make([]string, 0, batch)
			for _, d := range texts[i:min(i+batch, len(texts))] {
				strs = append(strs, d.Contents())
			}
			vs, err := enc.Encode(strs)
			if err != nil {
				return nil, 0, err
			}
			out = append(out, vs...)
			add(len(strs))
		}
		return out, time.Since(start), nil
	}
	dv, dt, err := encode(docs, DocLength, "SPLADE encoding documents")
	if err != nil {
		return nil, nil, err
	}
	qv, qt, err := encode(queries, model.DefaultQueryLength, "SPLADE encoding queries")
	if err != nil {
		return nil, nil, err
	}
	recs := make([]sparse.Record, len(docs))
	var nnz int
	for i, d := range docs {
		recs[i] = sparse.Record{ID: d.ID, Vector: dv[i]}
		nnz += dv[i].Len()
	}
	rows, stage, err := indexAndSearch(work+"/splade", "SPLADE", recs, queries, qv, qrels)
	if err != nil {
		return nil, nil, err
	}
	stages := []string{
		fmt.Sprintf("SPLADE encoding: %d docs in %v (%.1f docs/s, %.0f terms/doc), %d queries in %v",
			len(docs), dt.Round(time.Millisecond), float64(len(docs))/dt.Seconds(), float64(nnz)/float64(len(docs)), len(queries), qt.Round(time.Millisecond)),
		stage,
	}
	if o.Chunk == 0 {
		return rows, stages, nil
	}

	// Passages of o.Chunk wordpieces, each encoded alone, as splade encode
	// --chunk writes them.
	stride := cmp.Or(o.Stride, o.Chunk)
	if o.Chunk+2 > m.Config.MaxPositions {
		return nil, nil, fmt.Errorf("passages of %d wordpieces exceed the model's %d positions", o.Chunk, m.Config.MaxPositions)
	}
	enc, err := model.NewEncoder(m, tok, model.Options{MaxLength: o.Chunk + 2, Threads: o.Threads})
	if err != nil {
		return nil, nil, err
	}
	add, done := o.Progress("SPLADE encoding passages", len(docs))
	start := time.Now()
	var precs []sparse.Record
	for _, d := range docs {
		ps, err := tok.EncodePassages(d.Contents(), o.Chunk, stride)
		if err != nil {
			done()
			return nil, nil, err
		}
		ws, err := enc.EncodeIDs(ps)
		if err != nil {
			done()
			return nil, nil, err
		}
		for i, w := range ws {
			precs = append(precs, sparse.Record{ID: sparse.PassageID(d.ID, i), Doc: d.ID, Vector: enc.Vector(w)})
		}
		add(1)
	}
	done()
	pt := time.Since(start)
	prows, pstage, err := indexAndSearch(work+"/splade-passages", fmt.Sprintf("SPLADE MaxP %d/%d", o.Chunk, stride), precs, queries, qv, qrels)
	if err != nil {
		return nil, nil, err
	}
	stages = append(stages, fmt.Sprintf("SPLADE passages of %d wordpieces every %d: %d passages (%.2f a document) encoded in %v",
		o.Chunk, stride, len(precs), float64(len(precs))/float64(len(docs)), pt.Round(time.Millisecond)), pstage)
	return append(rows, prows...), stages, nil
}

// bm25Passages indexes BM25 impact vectors of passages of o.Chunk
// whitespace-separated words (BM25 statistics over passages, as a passage
// index sees them) and evaluates documents by their best passage.
func bm25Passages(o Options, work string, docs, queries []corpus.Doc, qrels eval.Qrels) ([]Row, string, error) {
	stride := cmp.Or(o.Stride, o.Chunk)
	b := bm25.NewBuilder(nil)
	docOf := map[string]string{}
	for _, d := range docs {
		words := strings.Fields(d.Contents())
		ws, err := tokenize.Windows(len(words), o.Chunk, stride)
		if err != nil {
			return nil, "", err
		}
		for i, w := range ws {
			id := sparse.PassageID(d.ID, i)
			if err := b.Add(id, strings.Join(words[w[0]:w[1]], " ")); err != nil {
				return nil, "", err
			}
			docOf[id] = d.ID
		}
	}
	pix := b.Build()
	var vecs []sparse.Record
	if err := pix.DocVectors(bm25.AnseriniParams, func(id string, v sparse.Vector) error {
		vecs = append(vecs, sparse.Record{ID: id, Doc: docOf[id], Vector: v})
		return nil
	}); err != nil {
		return nil, "", err
	}
	qv := make([]sparse.Vector, len(queries))
	for i, q := range queries {
		qv[i] = pix.QueryVector(q.Contents())
	}
	return indexAndSearch(work+"/bm25-passages", fmt.Sprintf("BM25 MaxP %d/%d words", o.Chunk, stride), vecs, queries, qv, qrels)
}

// indexAndSearch builds an impact index from vecs and evaluates each query
// processor on it.
func indexAndSearch(dir, name string, vecs []sparse.Record, queries []corpus.Doc, qv []sparse.Vector, qrels eval.Qrels) ([]Row, string, error) {
	st, err := index.Build(dir, vecs, index.BuildOptions{Reorder: true})
	if err != nil {
		return nil, "", err
	}
	ix, err := index.Open(dir)
	if err != nil {
		return nil, "", err
	}
	defer ix.Close()
	s := search.New(ix)
	var rows []Row
	for _, mode := range []struct {
		label string
		opt   search.Options
	}{
		{"exhaustive", search.Options{K: 100, Mode: search.Exhaustive}},
		{"block-max (exact)", search.Options{K: 100, Mode: search.BlockMax}},
		{"approximate (alpha 0.9)", search.Options{K: 100, Mode: search.Approx, Alpha: 0.9}},
	} {
		run := eval.Run{}
		start := time.Now()
		for i, q := range queries {
			hits, err := s.Search(qv[i], mode.opt)
			if err != nil {
				return nil, "", fmt.Errorf("query %s: %w", q.ID, err)
			}
			for _, h := range hits {
				if h.ID == q.ID { // as Anserini's -removeQuery on BEIR
					continue
				}
				run[q.ID] = append(run[q.ID], eval.Result{DocID: h.ID, Score: h.Score})
			}
		}
		el := time.Since(start)
		row, err := evaluate(name+", "+mode.label, qrels, run)
		if err != nil {
			return nil, "", err
		}
		row.MeanMs = ms(el) / float64(len(queries))
		rows = append(rows, row)
	}
	stage := fmt.Sprintf("%s index: %d docs, %d postings, %.1f bits/posting, %.1f MB on disk, built in %v",
		name, st.Docs, st.Postings, st.BitsPerPost, float64(st.TotalBytes)/1e6, st.BuildTime.Round(time.Millisecond))
	if ix.HasPassages() {
		shallow, err := firstRoundSuffices(s, qv, 100)
		if err != nil {
			return nil, "", err
		}
		stage = fmt.Sprintf("%s index: %d passages of %d documents, %d postings, %.1f bits/posting, %.1f MB on disk, built in %v; "+
			"the first k' = k x %d passages held k = 100 documents for %d of %d queries",
			name, st.Docs, st.Documents, st.Postings, st.BitsPerPost, float64(st.TotalBytes)/1e6, st.BuildTime.Round(time.Millisecond),
			passagesPerDoc(ix), shallow, len(qv))
	}
	return rows, stage, nil
}

// passagesPerDoc is the mean passages per document, rounded up: the
// factor by which a MaxP search first multiplies k.
func passagesPerDoc(ix *index.Index) int {
	return (ix.NumDocs() + ix.NumDocuments() - 1) / ix.NumDocuments()
}

// firstRoundSuffices counts the queries whose top k x passagesPerDoc
// passages hold k distinct documents (or every matching passage), so that a
// MaxP search needs no second, deeper round.
func firstRoundSuffices(s *search.Searcher, qv []sparse.Vector, k int) (int, error) {
	kp := k * passagesPerDoc(s.Index())
	n := 0
	for _, q := range qv {
		hits, err := s.Search(q, search.Options{K: kp, Mode: search.BlockMax, Passages: true})
		if err != nil {
			return 0, err
		}
		if len(hits) < kp || len(s.Documents(hits, k)) == k {
			n++
		}
	}
	return n, nil
}

func evaluate(system string, q eval.Qrels, r eval.Run) (Row, error) {
	rep, err := eval.Evaluate(q, r, []string{"ndcg_cut_10", "recall_100"})
	if err != nil {
		return Row{}, err
	}
	return Row{System: system, NDCG10: rep.Mean["ndcg_cut_10"], Recall100: rep.Mean["recall_100"]}, nil
}

func readAll(r *corpus.Reader, err error) ([]corpus.Doc, error) {
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []corpus.Doc
	for {
		d, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Print writes the report as a table.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "\n%s: %d documents, %d queries\n\n", r.Collection, r.Docs, r.Queries)
	for _, s := range r.Stages {
		fmt.Fprintf(w, "  %s\n", s)
	}
	fmt.Fprintf(w, "\n  %-52s %8s %10s %12s\n", "system", "nDCG@10", "Recall@100", "ms/query")
	for _, row := range r.Rows {
		fmt.Fprintf(w, "  %-52s %8.4f %10.4f %12.2f\n", row.System, row.NDCG10, row.Recall100, row.MeanMs)
	}
	if r.Docs > 0 && 100 >= search.ExhaustiveK*float64(r.Docs) {
		fmt.Fprintf(w, "\n  k = 100 is %.1f%% of the documents: block-max and approximate search leave it to exhaustive\n"+
			"  search, which is faster there (search.ExhaustiveK)\n", 100*100/float64(r.Docs))
	}
	fmt.Fprintln(w)
}
