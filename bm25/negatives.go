package bm25

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// Negative is a document that BM25 ranks high for a training query but
// that is not judged relevant to it: a "hard negative" for contrastive
// training of SPLADE (harder than random in-batch negatives because it
// shares vocabulary with the query).
type Negative struct {
	QueryID string
	DocID   string
	Rank    int // 1-based rank in the BM25 results
	Score   float32
}

// HardNegatives returns, in rank order, the first n results that are not
// judged relevant for the query (judgments maps document id to relevance;
// documents judged 0 or not judged are negatives).
func HardNegatives(qid string, results []Result, judgments map[string]int, n int) []Negative {
	var negs []Negative
	for i, r := range results {
		if len(negs) == n {
			break
		}
		if judgments[r.DocID] > 0 {
			continue
		}
		negs = append(negs, Negative{QueryID: qid, DocID: r.DocID, Rank: i + 1, Score: r.Score})
	}
	return negs
}

// WriteNegatives writes one "qid<TAB>docid<TAB>rank<TAB>score" line per
// negative.
func WriteNegatives(w io.Writer, negs []Negative) error {
	bw := bufio.NewWriter(w)
	var buf []byte
	for _, n := range negs {
		if n.QueryID == "" || n.DocID == "" {
			return fmt.Errorf("write negatives: empty query or document id (%q, %q)", n.QueryID, n.DocID)
		}
		buf = append(buf[:0], n.QueryID...)
		buf = append(buf, '\t')
		buf = append(buf, n.DocID...)
		buf = append(buf, '\t')
		buf = strconv.AppendInt(buf, int64(n.Rank), 10)
		buf = append(buf, '\t')
		buf = strconv.AppendFloat(buf, float64(n.Score), 'g', -1, 32)
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}
