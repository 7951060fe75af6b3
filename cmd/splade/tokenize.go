package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/splade-go/splade/internal/fileio"
	"github.com/splade-go/splade/tokenize"
)

func init() {
	register(command{
		name:    "tokenize",
		summary: "split id<TAB>text lines into BERT WordPiece tokens",
		run:     runTokenize,
	})
}

// maxTokenizeLine bounds one input line (a document).
const maxTokenizeLine = 64 << 20

func runTokenize(args []string) error {
	fs := newFlags("tokenize", "--vocab PATH [--max-length N] [--input FILE]",
		`Reads "id<TAB>text" lines (standard input by default, gzip allowed) and writes
"id<TAB>space-separated wordpieces" lines to standard output, tokenized exactly as
Hugging Face's BertTokenizerFast does. [CLS] and [SEP] are not written; with
--max-length N the pieces are truncated to N-2, what fits in a model input of N.
A line without a tab is an error naming its line number.

--vocab takes a vocab.txt, a tokenizer.json or a model directory; a
tokenizer_config.json beside it sets lower-casing and accent stripping.

Examples:
  printf 'q1\tWhat is SPLADE?\n' | splade tokenize --vocab ../shared/data/bert-base-uncased
  splade tokenize --vocab model/vocab.txt --max-length 256 --input queries.tsv > queries.wp.tsv`)
	vocab := fs.String("vocab", "", "vocab.txt, tokenizer.json or model directory (required)")
	maxLen := fs.Int("max-length", 0, "model input length N: keep at most N-2 pieces (0: no limit)")
	input := fs.String("input", "-", `input file of id<TAB>text lines ("-": standard input)`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *vocab == "" {
		return usagef("--vocab is required (see splade tokenize -h)")
	}
	if *maxLen < 0 || *maxLen == 1 {
		return usagef("--max-length %d: must be 0 (no limit) or at least 2 ([CLS] and [SEP])", *maxLen)
	}
	tok, err := tokenize.Load(*vocab)
	if err != nil {
		return err
	}
	in, err := fileio.Open(*input)
	if err != nil {
		return err
	}
	defer in.Close()
	name := *input
	if name == "-" {
		name = "stdin"
	}
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	start := time.Now()
	lines, pieces, err := tokenizeLines(tok, in, name, out, *maxLen)
	if ferr := out.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("writing output: %w", ferr)
	}
	if err != nil {
		return err
	}
	slog.Info("tokenized", "lines", lines, "pieces", pieces, "vocab", *vocab, "seconds", time.Since(start).Seconds())
	return nil
}

// tokenizeLines converts each id<TAB>text line of r into id<TAB>pieces on w.
func tokenizeLines(tok *tokenize.Tokenizer, r io.Reader, name string, w *bufio.Writer, maxLen int) (lines, pieces int, err error) {
	lr := fileio.NewLineReader(r, maxTokenizeLine)
	bar := newProgress(-1, "tokenizing")
	defer bar.Finish()
	var ids []int32
	for {
		line, err := lr.Next()
		if errors.Is(err, io.EOF) {
			return lines, pieces, nil
		}
		if err != nil {
			return lines, pieces, fmt.Errorf("%s:%d: %w", name, lr.Line(), err)
		}
		id, text, ok := bytes.Cut(line, []byte{'\t'})
		if !ok {
			return lines, pieces, fmt.Errorf("%s:%d: no tab: expected id<TAB>text", name, lr.Line())
		}
		ids = tok.AppendEncode(ids[:0], string(text), maxLen)
		body := ids[1 : len(ids)-1] // without [CLS] and [SEP]
		w.Write(id)
		w.WriteByte('\t')
		for i, p := range body {
			if i > 0 {
				w.WriteByte(' ')
			}
			w.WriteString(tok.Token(p))
		}
		if err := w.WriteByte('\n'); err != nil {
			return lines, pieces, fmt.Errorf("writing output: %w", err)
		}
		lines++
		pieces += len(body)
		bar.Add(1)
	}
}
