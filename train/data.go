package train

import (
	"bufio"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/splade-go/splade/bm25"
	"github.com/splade-go/splade/corpus"
	"github.com/splade-go/splade/eval"
	"github.com/splade-go/splade/internal/fileio"
	"github.com/splade-go/splade/tokenize"
)

// Training data for the ranking stage. SPLADE learns from triples (query,
// relevant document d+, non-relevant document d-): d+ from the judgments,
// d- a "hard negative" that BM25 ranks high but that is not judged
// relevant (much more informative than a random document), and every other
// document of the batch as an extra in-batch negative. Data gathers what
// the trainer samples from:
//
//   - a collection (BEIR corpus, queries and qrels), with negatives from
//     BM25 run on the fly (package bm25) or read from a file;
//   - or MS MARCO style triples (ids into the collection, or raw texts);
//   - optional teacher scores (cross-encoder scores for MarginMSE);
//   - optional teacher query vectors (a published SPLADE model's outputs).
//
// Sampling is a pure function of (seed, step), so a resumed run draws the
// batches the uninterrupted run would have drawn.

// Data is a training set.
type Data struct {
	Docs    map[string]string // document id -> text
	DocIDs  []string          // documents in corpus order
	Queries map[string]string // query id -> text
	Qrels   eval.Qrels

	// Train and Dev are the query ids trained on and evaluated on.
	Train, Dev []string
	// Negatives holds each training query's candidate hard negatives, best
	// first; one is drawn per query per step.
	Negatives map[string][]string
	// Triples, when set, replace the query/negative sampling: each item of
	// the stream is a fixed triple.
	Triples []Triple
	// TeacherScores are s_teacher(q, d) for MarginMSE.
	TeacherScores map[string]map[string]float32
	// TeacherQueries are teacher SPLADE query vectors.
	TeacherQueries map[string]TeacherVector
	// TripleShare, when both training queries and triples exist, is the
	// fraction of every batch drawn from the triples (0: one stream over
	// both, in proportion to their numbers).
	TripleShare float64
}

// Triple is one training example: a query and a positive and a negative
// document, by id.
type Triple struct {
	Query, Pos, Neg string
}

// TeacherVector is a sparse query vector over vocabulary ids.
type TeacherVector struct {
	IDs     []int32
	Weights []float32
}

// ReadTexts reads a BEIR corpus or queries file (JSONL or id<TAB>text,
// package corpus) into a map of id -> title + text, and the ids in order.
func ReadTexts(path string) (map[string]string, []string, error) {
	r, err := corpus.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	texts := map[string]string{}
	var ids []string
	for {
		d, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		texts[d.ID] = d.Contents()
		ids = append(ids, d.ID)
	}
	if len(ids) == 0 {
		return nil, nil, fmt.Errorf("%s: no documents", path)
	}
	return texts, ids, nil
}

// relevant returns the judged-relevant documents of a query that are in
// the collection, sorted.
func (d *Data) relevant(qid string) []string {
	var out []string
	for doc, rel := range d.Qrels[qid] {
		if rel > 0 {
			if _, ok := d.Docs[doc]; ok {
				out = append(out, doc)
			}
		}
	}
	slices.Sort(out)
	return out
}

// TrainableQueries returns the queries (sorted) that have text, at least
// one relevant document in the collection and, when negatives are known,
// at least one negative.
func (d *Data) TrainableQueries() []string {
	var out []string
	for qid := range d.Qrels {
		if _, ok := d.Queries[qid]; !ok || len(d.relevant(qid)) == 0 {
			continue
		}
		out = append(out, qid)
	}
	slices.Sort(out)
	return out
}

// SplitDev carves a dev split from the queries: a seeded shuffle, the
// first round(fraction x n) queries for dev (at least 1 when fraction > 0
// and n > 1), the rest for training; both come back sorted.
func SplitDev(qids []string, fraction float64, seed uint64) (train, dev []string, err error) {
	if fraction < 0 || fraction >= 1 {
		return nil, nil, fmt.Errorf("dev fraction %g outside [0, 1)", fraction)
	}
	q := slices.Clone(qids)
	slices.Sort(q)
	rng := rand.New(rand.NewPCG(seed, 0xdef))
	rng.Shuffle(len(q), func(i, j int) { q[i], q[j] = q[j], q[i] })
	n := int(math.Round(fraction * float64(len(q))))
	if fraction > 0 && n == 0 && len(q) > 1 {
		n = 1
	}
	dev, train = slices.Clone(q[:n]), slices.Clone(q[n:])
	slices.Sort(dev)
	slices.Sort(train)
	if len(train) == 0 {
		return nil, nil, fmt.Errorf("no training query left after taking %d for dev", n)
	}
	return train, dev, nil
}

// BM25Negatives runs BM25 (Anserini's parameters) over the collection for
// each query and keeps the top n results not judged relevant.
func (d *Data) BM25Negatives(qids []string, n, depth int, progress func()) (map[string][]string, error) {
	b := bm25.NewBuilder(nil)
	for _, id := range d.DocIDs {
		if err := b.Add(id, d.Docs[id]); err != nil {
			return nil, fmt.Errorf("bm25 negatives: %w", err)
		}
	}
	ix := b.Build()
	qs := make([]bm25.Query, len(qids))
	for i, q := range qids {
		qs[i] = bm25.Query{ID: q, Text: d.Queries[q]}
	}
	res, err := ix.SearchAll(qs, bm25.Options{Params: bm25.AnseriniParams, K: depth, Progress: progress})
	if err != nil {
		return nil, fmt.Errorf("bm25 negatives: %w", err)
	}
	out := make(map[string][]string, len(qids))
	for i, q := range qids {
		for _, neg := range bm25.HardNegatives(q, res[i], d.Qrels[q], n) {
			out[q] = append(out[q], neg.DocID)
		}
	}
	return out, nil
}

// fields splits a line on tabs, or on runs of spaces when it has no tab.
func fields(line string) []string {
	if strings.Contains(line, "\t") {
		return strings.Split(line, "\t")
	}
	return strings.Fields(line)
}

// eachLine calls f with every non-empty line of r and its number; errors
// are prefixed with name:line.
func eachLine(r io.Reader, name string, f func(line string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := f(line); err != nil {
			return fmt.Errorf("%s:%d: %w", name, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s:%d: %w", name, n+1, err)
	}
	return nil
}

// readFile opens path (gzip-transparent) and runs parse on it.
func readFile(path string, parse func(io.Reader, string) error) error {
	f, err := fileio.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return parse(f, path)
}

// ParseNegatives reads hard negatives, "qid<TAB>docid" per line with any
// further columns ignored (bm25.WriteNegatives' "qid docid rank score"),
// in the order of the file.
func ParseNegatives(r io.Reader, name string) (map[string][]string, error) {
	out := map[string][]string{}
	err := eachLine(r, name, func(line string) error {
		f := fields(line)
		if len(f) < 2 || f[0] == "" || f[1] == "" {
			return fmt.Errorf("want qid<TAB>docid, got %q", trunc(line))
		}
		out[f[0]] = append(out[f[0]], f[1])
		return nil
	})
	return out, err
}

// ReadNegatives is ParseNegatives on a file.
func ReadNegatives(path string) (negs map[string][]string, err error) {
	err = readFile(path, func(r io.Reader, name string) error { negs, err = ParseNegatives(r, name); return err })
	return negs, err
}

// ParseTeacherScores reads "qid<TAB>docid<TAB>score" lines.
func ParseTeacherScores(r io.Reader, name string) (map[string]map[string]float32, error) {
	out := map[string]map[string]float32{}
	err := eachLine(r, name, func(line string) error {
		f := fields(line)
		if len(f) != 3 || f[0] == "" || f[1] == "" {
			return fmt.Errorf("want qid<TAB>docid<TAB>score, got %q", trunc(line))
		}
		s, err := strconv.ParseFloat(f[2], 32)
		if err != nil || math.IsNaN(s) || math.IsInf(s, 0) {
			return fmt.Errorf("bad score %q", trunc(f[2]))
		}
		m := out[f[0]]
		if m == nil {
			m = map[string]float32{}
			out[f[0]] = m
		}
		if _, dup := m[f[1]]; dup {
			return fmt.Errorf("second score for query %q, document %q", f[0], f[1])
		}
		m[f[1]] = float32(s)
		return nil
	})
	return out, err
}

// ReadTeacherScores is ParseTeacherScores on a file.
func ReadTeacherScores(path string) (s map[string]map[string]float32, err error) {
	err = readFile(path, func(r io.Reader, name string) error { s, err = ParseTeacherScores(r, name); return err })
	return s, err
}

// ParseTriples reads MS MARCO style triples, three tab-separated columns
// per line: either ids (qid, positive docid, negative docid) that must
// all be in d's queries and documents, or raw texts (query, positive
// passage, negative passage), which are added to d under ids derived
// from their content. The first line decides which: ids when any of its
// columns is a known id (then all of every line must be).
func (d *Data) ParseTriples(r io.Reader, name string) error {
	if d.Docs == nil {
		d.Docs = map[string]string{}
	}
	if d.Queries == nil {
		d.Queries = map[string]string{}
	}
	byID := -1
	// Text triples extend the evaluation collection only when there is no
	// collection (triples alone); beside a corpus their passages are
	// training material, not documents to retrieve.
	addDocs := len(d.DocIDs) == 0
	return eachLine(r, name, func(line string) error {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return fmt.Errorf("want 3 tab-separated columns, got %d", len(f))
		}
		_, q := d.Queries[f[0]]
		_, p := d.Docs[f[1]]
		_, n := d.Docs[f[2]]
		if byID < 0 {
			byID = 0
			if q || p || n {
				byID = 1
			}
		}
		if byID == 1 {
			if !q || !p || !n {
				return fmt.Errorf("id triple (%q, %q, %q) names an unknown query or document", trunc(f[0]), trunc(f[1]), trunc(f[2]))
			}
			d.Triples = append(d.Triples, Triple{f[0], f[1], f[2]})
			return nil
		}
		for _, s := range f {
			if strings.TrimSpace(s) == "" {
				return fmt.Errorf("empty text in a text triple")
			}
		}
		t := Triple{textID("q", f[0]), textID("d", f[1]), textID("d", f[2])}
		d.Queries[t.Query] = f[0]
		for _, x := range [][2]string{{t.Pos, f[1]}, {t.Neg, f[2]}} {
			if _, ok := d.Docs[x[0]]; !ok {
				d.Docs[x[0]] = x[1]
				if addDocs {
					d.DocIDs = append(d.DocIDs, x[0])
				}
			}
		}
		if d.Qrels == nil {
			d.Qrels = eval.Qrels{}
		}
		if d.Qrels[t.Query] == nil {
			d.Qrels[t.Query] = map[string]int{}
		}
		d.Qrels[t.Query][t.Pos] = 1
		d.Triples = append(d.Triples, t)
		return nil
	})
}

// ReadTriples is ParseTriples on a file.
func (d *Data) ReadTriples(path string) error {
	return readFile(path, d.ParseTriples)
}

// textID names a text of a text triple by a hash of its content, so that
// a passage repeated across triples is one document.
func textID(prefix, text string) string {
	h := fnv.New64a()
	h.Write([]byte(text))
	return fmt.Sprintf("%s%016x", prefix, h.Sum64())
}

// TeacherScale returns the weight scale of a file of the shared
// splade-query-encodings folder: its weights were written as repeated
// wordpieces, round(weight x scale) times, with scale 1000 for the three
// MS MARCO SPLADE++ EnsembleDistil files and 100 for the others.
func TeacherScale(path string) float64 {
	base := path[strings.LastIndex(path, "/")+1:]
	if strings.Contains(base, "splade-pp-ed") && (strings.Contains(base, "msmarco") ||
		strings.Contains(base, "dl19") || strings.Contains(base, "dl20")) {
		return 1000
	}
	return 100
}

// ParseTeacherQueries reads teacher query vectors written as
// "id<TAB>wordpiece wordpiece ...", each wordpiece repeated round(weight x
// scale) times (Anserini's pre-encoded SPLADE queries). A wordpiece
// outside tok's vocabulary is an error: the teacher and the student must
// share the vocabulary for their vectors to be comparable.
func ParseTeacherQueries(r io.Reader, name string, tok *tokenize.Tokenizer, scale float64) (map[string]TeacherVector, error) {
	if scale <= 0 {
		return nil, fmt.Errorf("%s: teacher scale %g must be positive", name, scale)
	}
	out := map[string]TeacherVector{}
	err := eachLine(r, name, func(line string) error {
		id, toks, ok := strings.Cut(line, "\t")
		if !ok || id == "" {
			return fmt.Errorf("want id<TAB>wordpieces, got %q", trunc(line))
		}
		if _, dup := out[id]; dup {
			return fmt.Errorf("query %q encoded twice", id)
		}
		count := map[int32]int{}
		var order []int32
		for _, w := range strings.Fields(toks) {
			t, ok := tok.ID(w)
			if !ok {
				return fmt.Errorf("wordpiece %q not in the vocabulary", trunc(w))
			}
			if count[t] == 0 {
				order = append(order, t)
			}
			count[t]++
		}
		slices.Sort(order)
		v := TeacherVector{IDs: order}
		for _, t := range order {
			v.Weights = append(v.Weights, float32(float64(count[t])/scale))
		}
		out[id] = v
		return nil
	})
	return out, err
}

// ReadTeacherQueries is ParseTeacherQueries on a file; scale <= 0 picks
// TeacherScale(path).
func ReadTeacherQueries(path string, tok *tokenize.Tokenizer, scale float64) (v map[string]TeacherVector, err error) {
	if scale <= 0 {
		scale = TeacherScale(path)
	}
	err = readFile(path, func(r io.Reader, name string) error {
		v, err = ParseTeacherQueries(r, name, tok, scale)
		return err
	})
	return v, err
}

func trunc(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// Example is one sampled training example.
type Example struct {
	Triple
	// Margin is the teacher's s(q, d+) - s(q, d-) when HasMargin.
	Margin    float64
	HasMargin bool
}

// Sample returns the examples of a step: items step*size .. (step+1)*size-1
// of an endless stream of epochs, each a seeded permutation of the
// training queries and the triples together (or, with TripleShare, a
// fixed share of each batch from each). A query's positive is drawn among
// its relevant documents and its negative among its first negatives
// (depth of them; all when depth <= 0); with teacher scores the draw
// prefers documents the teacher scored, so that MarginMSE applies. Every
// draw depends on (seed, position in the stream) only.
func (d *Data) Sample(seed uint64, step, size, depth int) ([]Example, error) {
	n := len(d.Train) + len(d.Triples)
	if n == 0 {
		return nil, fmt.Errorf("no training queries or triples")
	}
	if d.TripleShare <= 0 || len(d.Train) == 0 || len(d.Triples) == 0 {
		return d.sampleStream(seed, 0, step*size, size, n, 0, depth)
	}
	// Two streams, each with its own epochs: nt triples and size - nt
	// judged queries per batch.
	nt := min(size, int(math.Round(d.TripleShare*float64(size))))
	out, err := d.sampleStream(seed, 1, step*(size-nt), size-nt, len(d.Train), 0, depth)
	if err != nil {
		return nil, err
	}
	tr, err := d.sampleStream(seed, 2, step*nt, nt, len(d.Triples), len(d.Train), depth)
	return append(out, tr...), err
}

// sampleStream returns items start .. start+count-1 of an endless stream
// of epochs, each a seeded permutation of the n items offset .. offset+n-1
// (item i < len(Train) is a judged query, others triples). stream
// separates the permutations and draws of independent streams; stream 0
// is the single stream of the unmixed case.
func (d *Data) sampleStream(seed uint64, stream, start, count, n, offset, depth int) ([]Example, error) {
	out := make([]Example, 0, count)
	salt := uint64(stream) << 48
	var perm []int
	permEpoch := -1
	for pos := start; pos < start+count; pos++ {
		epoch := pos / n
		if epoch != permEpoch {
			perm = rand.New(rand.NewPCG(seed^salt, uint64(epoch))).Perm(n)
			permEpoch = epoch
		}
		item := offset + perm[pos%n]
		rng := rand.New(rand.NewPCG(seed^0x9e3779b97f4a7c15^salt, uint64(pos)))
		var ex Example
		if item >= len(d.Train) {
			ex.Triple = d.Triples[item-len(d.Train)]
		} else {
			q := d.Train[item]
			rel, negs := d.relevant(q), d.Negatives[q]
			if depth > 0 && len(negs) > depth {
				negs = negs[:depth]
			}
			if ts := d.TeacherScores[q]; ts != nil {
				rel, negs = preferScored(rel, ts), preferScored(negs, ts)
			}
			if len(negs) == 0 {
				return nil, fmt.Errorf("query %q has no negative", q)
			}
			ex.Triple = Triple{q, rel[rng.IntN(len(rel))], negs[rng.IntN(len(negs))]}
		}
		if ts := d.TeacherScores[ex.Query]; ts != nil {
			sp, okp := ts[ex.Pos]
			sn, okn := ts[ex.Neg]
			if okp && okn {
				ex.Margin, ex.HasMargin = float64(sp)-float64(sn), true
			}
		}
		out = append(out, ex)
	}
	return out, nil
}

// preferScored returns the documents the teacher scored, or all of them
// when it scored none.
func preferScored(docs []string, scores map[string]float32) []string {
	var s []string
	for _, d := range docs {
		if _, ok := scores[d]; ok {
			s = append(s, d)
		}
	}
	if len(s) == 0 {
		return docs
	}
	return s
}
