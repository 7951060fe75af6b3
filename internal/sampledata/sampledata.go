// Package sampledata embeds the small collection that `splade quickstart`
// runs on, so that a newcomer needs no download: BEIR SciFact's corpus, test
// queries and test judgments (CC BY-NC 2.0; see LICENSE.md here).
package sampledata

import (
	"bytes"
	_ "embed"

	"github.com/splade-go/splade/corpus"
	"github.com/splade-go/splade/eval"
	"github.com/splade-go/splade/internal/fileio"
)

var (
	//go:embed corpus.jsonl.gz
	corpusGz []byte
	//go:embed queries-test.jsonl
	queries []byte
	//go:embed qrels-test.tsv
	qrels []byte
)

// Name describes the collection in reports.
const Name = "BEIR SciFact (test)"

// Corpus returns a reader over the 5,183 documents.
func Corpus() (*corpus.Reader, error) {
	f, err := fileio.NewReader(bytes.NewReader(corpusGz))
	if err != nil {
		return nil, err
	}
	return corpus.NewReader(f, "sample corpus"), nil
}

// Queries returns a reader over the 300 test queries.
func Queries() *corpus.Reader {
	return corpus.NewReader(bytes.NewReader(queries), "sample queries")
}

// Qrels returns the test judgments.
func Qrels() (eval.Qrels, error) {
	return eval.ParseQrels(bytes.NewReader(qrels), "sample qrels")
}
