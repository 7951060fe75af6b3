package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/splade-go/splade/corpus"
	"github.com/splade-go/splade/train"
)

const pseudoHelp = `Makes training triples from an unlabeled collection (weak supervision for
domains with few judged queries): a document's title as the query and its text
as the positive ("title"), or one sentence of the text as the query and the
rest of the text as the positive ("sentence", the Inverse Cloze Task). The
negative is drawn among the first BM25 results of the pseudo-query, leaving out
its source document. Output: text triples, query<TAB>positive<TAB>negative per
line, which "splade train --triples" takes alone or together with --qrels.

Examples:
  splade pseudo-triples --corpus ../shared/data/beir/scifact/corpus.jsonl.gz \
      --kinds title,sentence --sentences-per-doc 2 --output pseudo.tsv.gz
  splade train ... --qrels qrels/train.tsv --triples pseudo.tsv.gz ...`

func init() {
	register(command{name: "pseudo-triples", summary: "training triples from an unlabeled corpus (titles, sentences)", run: runPseudo})
}

func runPseudo(args []string) error {
	fs := newFlags("pseudo-triples", "--corpus FILE --output FILE [flags]", pseudoHelp)
	corpusPath := fs.String("corpus", "", "documents: BEIR JSONL or id<TAB>text TSV (.gz ok)")
	kinds := fs.String("kinds", "title,sentence", "pseudo-query kinds, comma-separated: title, sentence")
	perDoc := fs.Int("sentences-per-doc", 1, "sentence queries per document")
	minWords := fs.Int("min-words", 5, "shortest sentence used as a query, in words")
	maxWords := fs.Int("max-words", 40, "longest sentence used as a query, in words")
	negDepth := fs.Int("neg-depth", 20, "draw the negative among the first N BM25 results")
	seed := fs.Uint64("seed", 1, "seed of the sentence and negative draws")
	out := fs.String("output", "", "output triples TSV (.gz: gzipped; -: stdout)")
	alias(fs, "output", "out")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *corpusPath == "" || *out == "" {
		return usagef("--corpus and --output are required (see splade pseudo-triples -h)")
	}
	if *perDoc <= 0 || *minWords <= 0 || *maxWords < *minWords || *negDepth <= 0 {
		return usagef("--sentences-per-doc, --min-words, --neg-depth must be positive and --max-words >= --min-words")
	}
	r, err := corpus.Open(*corpusPath)
	if err != nil {
		return err
	}
	var docs []corpus.Doc
	for {
		d, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			r.Close()
			return err
		}
		docs = append(docs, d)
	}
	r.Close()
	opt := train.PseudoOptions{Kinds: strings.Split(*kinds, ","), SentencesPerDoc: *perDoc,
		MinWords: *minWords, MaxWords: *maxWords, NegDepth: *negDepth, Seed: *seed}
	bar := newProgress(int64(len(docs)), "pseudo-queries")
	ts, err := train.PseudoTriples(docs, opt, func() { bar.Add(1) })
	bar.Finish()
	if err != nil {
		return err
	}
	w, done, err := createOutput(*out)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	count := map[string]int{}
	oneLine := strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")
	for _, t := range ts {
		count[t.Kind]++
		fmt.Fprintf(bw, "%s\t%s\t%s\n", oneLine.Replace(t.Query), oneLine.Replace(t.Pos), oneLine.Replace(t.Neg))
	}
	err = bw.Flush()
	if err = errors.Join(err, done(err == nil)); err != nil {
		return err
	}
	slog.Info("wrote pseudo-query triples", "output", *out, "docs", len(docs), "title", count[train.PseudoTitle], "sentence", count[train.PseudoSentence])
	return nil
}
