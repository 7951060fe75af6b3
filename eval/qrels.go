// Package eval scores rankings against relevance judgments the way
// trec_eval does, so that numbers produced here can be compared with the
// published SPLADE and BM25 results (which were all computed with trec_eval
// or its Python wrapper pytrec_eval). Matching trec_eval matters more than
// it seems: retrieval scores tie often (BM25 constantly), and a metric cut at
// rank 10 depends on how ties are ordered. trec_eval ignores the rank column
// of a run, rounds scores to float32, sorts by score descending and breaks
// ties by document id in descending strcmp order; Evaluate does the same.
//
// Which queries count: as trec_eval without -c, a query is evaluated when it
// has judgments in the qrels and results in the run; queries only in the run
// are ignored and queries only in the qrels are skipped. The mean divides by
// the number of evaluated queries. A judged query without any relevant
// document is evaluated (all its scores are 0), again as trec_eval does.
// Options.Complete (trec_eval -c) evaluates every qrels query, an empty
// ranking for those missing from the run, so that a run that drops queries
// is penalised.
//
// Relevance levels above 0 are gains for nDCG; levels of at least 1
// (trec_eval's default -l 1) are relevant for recall, precision, MAP and
// reciprocal rank; levels <= 0 are non-relevant.
//
// The package also computes the statistics by which the SPLADE papers
// compare sparse representations: average non-zeros per document and query,
// and FLOPS, the expected number of multiply-adds per query-document pair.
package eval

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/splade-go/splade/internal/fileio"
)

// MaxLineBytes bounds one line of a qrels or run file; real lines are well
// under 200 bytes, so a longer one means the file is not what it claims.
const MaxLineBytes = 1 << 20

// Qrels are relevance judgments: query id -> document id -> relevance level.
type Qrels map[string]map[string]int

// ReadQrels reads judgments from a file in TREC form (`qid iter docid rel`,
// whitespace separated, '#' comment lines allowed) or BEIR TSV form
// (`query-id<TAB>corpus-id<TAB>score`, with or without that header). The
// form is detected from the first line that holds data; gzip input is
// accepted. A repeated (qid, docid) pair or a malformed line is an error
// naming the file and line.
func ReadQrels(path string) (Qrels, error) {
	f, err := fileio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseQrels(f, path)
}

type qrelsForm int

const (
	formUnknown qrelsForm = iota
	formTREC              // qid iter docid rel
	formBEIR              // query-id corpus-id score
)

// ParseQrels reads judgments from r; name is used in error messages.
func ParseQrels(r io.Reader, name string) (Qrels, error) {
	lines := fileio.NewLineReader(r, MaxLineBytes)
	q := make(Qrels)
	form := formUnknown
	for {
		line, err := lines.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, lines.Line(), err)
		}
		trimmed := bytes.TrimSpace(line)
		if len(trimmed) == 0 || trimmed[0] == '#' {
			continue
		}
		fields := strings.Fields(string(trimmed))
		if form == formUnknown {
			switch len(fields) {
			case 4:
				form = formTREC
			case 3:
				form = formBEIR
				if isBEIRHeader(fields) {
					continue
				}
			default:
				return nil, fmt.Errorf("%s:%d: qrels line has %d fields; want 4 (TREC: qid iter docid rel) or 3 (BEIR: query-id corpus-id score)",
					name, lines.Line(), len(fields))
			}
		}
		var qid, docid, relText string
		switch form {
		case formTREC:
			if len(fields) != 4 {
				return nil, fmt.Errorf("%s:%d: TREC qrels line has %d fields, want 4 (qid iter docid rel)", name, lines.Line(), len(fields))
			}
			qid, docid, relText = fields[0], fields[2], fields[3]
		case formBEIR:
			if len(fields) != 3 {
				return nil, fmt.Errorf("%s:%d: BEIR qrels line has %d fields, want 3 (query-id corpus-id score)", name, lines.Line(), len(fields))
			}
			qid, docid, relText = fields[0], fields[1], fields[2]
		}
		rel, err := strconv.ParseInt(relText, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: relevance %q is not an integer", name, lines.Line(), relText)
		}
		docs := q[qid]
		if docs == nil {
			docs = make(map[string]int)
			q[qid] = docs
		}
		if _, dup := docs[docid]; dup {
			return nil, fmt.Errorf("%s:%d: duplicate judgment for query %q document %q", name, lines.Line(), qid, docid)
		}
		docs[docid] = int(rel)
	}
	return q, nil
}

func isBEIRHeader(fields []string) bool {
	_, err := strconv.ParseInt(fields[2], 10, 32)
	return err != nil && (fields[0] == "query-id" || fields[0] == "query_id" || fields[0] == "qid")
}

// NumRelevant returns how many documents of query qid have relevance >= 1.
func (q Qrels) NumRelevant(qid string) int {
	n := 0
	for _, rel := range q[qid] {
		if rel >= 1 {
			n++
		}
	}
	return n
}
