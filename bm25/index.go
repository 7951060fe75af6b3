// Package bm25 is the lexical baseline of the toolkit: Okapi BM25 exactly
// as Anserini runs it on Lucene, in memory.
//
// SPLADE is always reported next to BM25, and BM25 supplies the hard
// negatives that SPLADE training starts from, so this package aims at the
// published Anserini numbers rather than at "a BM25": the same analyzer
// (package analysis), Lucene's BM25Similarity with Anserini's k1=0.9,
// b=0.4, Lucene's idf log(1 + (N - n + 0.5)/(n + 0.5)) with N the number
// of documents having at least one indexed term, the document length
// stored lossily in one byte per document (SmallFloat.intToByte4) and
// decoded back before use, the average length from the exact total,
// scores computed in float32 in Lucene's order of operations and summed
// over query terms in float64, one query clause per query token (a
// repeated token counts again), and ties broken by external document id
// in byte order as Anserini's searcher sorts them.
//
// The index is a plain in-memory inverted file: one posting list (document
// numbers and term frequencies) per term. Retrieval is exhaustive
// term-at-a-time accumulation, exact and fast enough for collections of a
// few million passages; queries run in parallel.
package bm25

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/splade-go/splade/bm25/analysis"
	"github.com/splade-go/splade/corpus"
)

// Index is an immutable inverted index. It is safe for concurrent search.
type Index struct {
	analyzer *analysis.Analyzer
	ids      []string // external id of each document number
	idRank   []int32  // position of ids[d] in byte order, for ties
	norms    []uint8  // encoded length of each document
	vocab    map[string]int32
	postings []postingList
	docCount int   // documents with at least one indexed term
	sumTTF   int64 // total number of indexed terms
}

// postingList holds the documents containing one term, in increasing
// document number, and the term's frequency in each.
type postingList struct {
	docs  []int32
	freqs []int32
}

// NumDocs returns the number of documents added, including any without
// indexed terms.
func (ix *Index) NumDocs() int { return len(ix.ids) }

// NumTerms returns the size of the vocabulary.
func (ix *Index) NumTerms() int { return len(ix.postings) }

// DocCount returns Lucene's docCount: documents with at least one term.
func (ix *Index) DocCount() int { return ix.docCount }

// AvgDocLength returns the average number of terms of the documents that
// have any, the avgdl of BM25.
func (ix *Index) AvgDocLength() float64 {
	if ix.docCount == 0 {
		return 0
	}
	return float64(ix.sumTTF) / float64(ix.docCount)
}

// DocFreq returns the number of documents containing an (analyzed) term.
func (ix *Index) DocFreq(term string) int {
	if t, ok := ix.vocab[term]; ok {
		return len(ix.postings[t].docs)
	}
	return 0
}

// Analyzer returns the analyzer used for documents, and for queries.
func (ix *Index) Analyzer() *analysis.Analyzer { return ix.analyzer }

// batchSize is how many documents are analyzed in parallel before their
// postings are appended in order.
const batchSize = 2048

// Builder accumulates documents into an Index. Documents are analyzed in
// parallel in batches; document numbers follow the order of Add.
type Builder struct {
	ix    *Index
	seen  map[string]bool
	batch []pendingDoc
	built bool
}

type pendingDoc struct{ id, text string }

// analyzedDoc is a document reduced to its distinct terms and their
// frequencies.
type analyzedDoc struct {
	terms  []string
	freqs  []int32
	length int
}

// NewBuilder starts an index whose documents (and later queries) are
// analyzed by a; nil means analysis.English(), Anserini's default.
func NewBuilder(a *analysis.Analyzer) *Builder {
	if a == nil {
		a = analysis.English()
	}
	return &Builder{
		ix:   &Index{analyzer: a, vocab: make(map[string]int32)},
		seen: make(map[string]bool),
	}
}

// Add adds a document. An empty id, an id used before, or an id holding
// whitespace (it could not be written to a TREC run) is an error. A text
// without terms is kept but can never be retrieved, and does not count in
// N or avgdl, as in Lucene.
func (b *Builder) Add(id, text string) error {
	if b.built {
		return errors.New("bm25: Add after Build")
	}
	if id == "" || strings.ContainsFunc(id, isSpace) {
		return fmt.Errorf("bm25: document id %q is empty or contains whitespace", id)
	}
	if b.seen[id] {
		return fmt.Errorf("bm25: duplicate document id %q", id)
	}
	b.seen[id] = true
	b.batch = append(b.batch, pendingDoc{id, text})
	if len(b.batch) == batchSize {
		b.flush()
	}
	return nil
}

// AddCorpus adds every document of r (title and text joined, as
// corpus.Doc.Contents) and calls progress, when not nil, after each batch
// with the number of documents added so far.
func (b *Builder) AddCorpus(r *corpus.Reader, progress func(docs int)) error {
	for {
		d, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := b.Add(d.ID, d.Contents()); err != nil {
			return fmt.Errorf("%w (line %d)", err, r.Line())
		}
		if progress != nil && len(b.batch) == 0 {
			progress(len(b.ix.ids))
		}
	}
	if progress != nil {
		b.flush()
		progress(len(b.ix.ids))
	}
	return nil
}

// Build finishes the index. The Builder cannot be used afterwards.
func (b *Builder) Build() *Index {
	b.flush()
	b.built = true
	b.seen = nil
	ix := b.ix
	order := make([]int32, len(ix.ids))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int { return strings.Compare(ix.ids[x], ix.ids[y]) })
	ix.idRank = make([]int32, len(ix.ids))
	for r, d := range order {
		ix.idRank[d] = int32(r)
	}
	return ix
}

// flush analyzes the pending batch in parallel and appends its postings.
func (b *Builder) flush() {
	if len(b.batch) == 0 {
		return
	}
	docs := make([]analyzedDoc, len(b.batch))
	workers := min(runtime.GOMAXPROCS(0), len(b.batch))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts := make(map[string]int32)
			var terms []string
			for i := w; i < len(b.batch); i += workers {
				terms = b.ix.analyzer.AppendTerms(terms[:0], b.batch[i].text)
				docs[i] = countTerms(terms, counts)
			}
		}()
	}
	wg.Wait()
	ix := b.ix
	for i, p := range b.batch {
		d := int32(len(ix.ids))
		ix.ids = append(ix.ids, p.id)
		ix.norms = append(ix.norms, encodeNorm(docs[i].length))
		if docs[i].length > 0 {
			ix.docCount++
			ix.sumTTF += int64(docs[i].length)
		}
		for j, term := range docs[i].terms {
			t, ok := ix.vocab[term]
			if !ok {
				t = int32(len(ix.postings))
				// Terms are often substrings of the document text:
				// clone them so that the text can be freed.
				ix.vocab[strings.Clone(term)] = t
				ix.postings = append(ix.postings, postingList{})
			}
			pl := &ix.postings[t]
			pl.docs = append(pl.docs, d)
			pl.freqs = append(pl.freqs, docs[i].freqs[j])
		}
	}
	clear(b.batch)
	b.batch = b.batch[:0]
}

// countTerms reduces a term sequence to distinct terms and frequencies;
// counts is scratch space.
func countTerms(terms []string, counts map[string]int32) analyzedDoc {
	clear(counts)
	for _, t := range terms {
		counts[t]++
	}
	a := analyzedDoc{
		terms:  make([]string, 0, len(counts)),
		freqs:  make([]int32, 0, len(counts)),
		length: len(terms),
	}
	for t, f := range counts {
		a.terms = append(a.terms, t)
		a.freqs = append(a.freqs, f)
	}
	return a
}

func isSpace(r rune) bool { return unicode.IsSpace(r) }
