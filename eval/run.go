package eval

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/splade-go/splade/internal/fileio"
)

// Result is one retrieved document and its score.
type Result struct {
	DocID string
	Score float64
}

// Run holds the results of a retrieval run: query id -> results, in any
// order (Evaluate sorts them as trec_eval does).
type Run map[string][]Result

// ReadRun reads a run in TREC form (`qid Q0 docid rank score tag`,
// whitespace separated; gzip accepted). The rank column must be an integer
// but is otherwise ignored, as trec_eval ignores it. A document listed twice
// for a query, a score that is not a finite number, or a line without six
// fields is an error naming the file and line.
func ReadRun(path string) (Run, error) {
	f, err := fileio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseRun(f, path)
}

// ParseRun reads a run from r; name is used in error messages.
func ParseRun(r io.Reader, name string) (Run, error) {
	lines := fileio.NewLineReader(r, MaxLineBytes)
	run := make(Run)
	// lineOf[qid][i] is the line of run[qid][i], kept to name both lines of
	// a duplicate without a per-document map (runs hold millions of rows).
	lineOf := make(map[string][]int32)
	for {
		line, err := lines.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, lines.Line(), err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		fields := strings.Fields(string(line))
		if len(fields) != 6 {
			return nil, fmt.Errorf("%s:%d: run line has %d fields, want 6 (qid Q0 docid rank score tag)", name, lines.Line(), len(fields))
		}
		if _, err := strconv.ParseInt(fields[3], 10, 64); err != nil {
			return nil, fmt.Errorf("%s:%d: rank %q is not an integer", name, lines.Line(), fields[3])
		}
		score, err := strconv.ParseFloat(fields[4], 64)
		if err != nil || math.IsNaN(score) || math.IsInf(score, 0) {
			return nil, fmt.Errorf("%s:%d: score %q is not a finite number", name, lines.Line(), fields[4])
		}
		qid := fields[0]
		run[qid] = append(run[qid], Result{DocID: fields[2], Score: score})
		lineOf[qid] = append(lineOf[qid], int32(lines.Line()))
	}
	for qid, res := range run {
		if err := checkDuplicates(qid, res, lineOf[qid]); err != nil {
			return nil, fmt.Errorf("%s:%w", name, err)
		}
	}
	return run, nil
}

// checkDuplicates reports the first document that appears twice in res,
// naming the lines of both occurrences (line:... prefix for the caller).
func checkDuplicates(qid string, res []Result, lines []int32) error {
	idx := make([]int, len(res))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := strings.Compare(res[a].DocID, res[b].DocID); c != 0 {
			return c
		}
		return int(lines[a]) - int(lines[b])
	})
	var first error
	firstLine := int32(math.MaxInt32)
	for i := 1; i < len(idx); i++ {
		a, b := idx[i-1], idx[i]
		if res[a].DocID == res[b].DocID && lines[b] < firstLine {
			firstLine = lines[b]
			first = fmt.Errorf("%d: query %q lists document %q twice (also line %d)", lines[b], qid, res[b].DocID, lines[a])
		}
	}
	return first
}

// WriteRun writes results for one query in TREC run form, with ranks 1..n
// in the order given (callers pass results sorted by decreasing score).
// Scores are written in the shortest form that reads back exactly.
func WriteRun(w io.Writer, qid string, results []Result, tag string) error {
	if qid == "" || strings.ContainsFunc(qid, isSpace) {
		return fmt.Errorf("write run: query id %q is empty or contains whitespace", qid)
	}
	if tag == "" || strings.ContainsFunc(tag, isSpace) {
		return fmt.Errorf("write run: tag %q is empty or contains whitespace", tag)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	var buf []byte
	for i, r := range results {
		if r.DocID == "" || strings.ContainsFunc(r.DocID, isSpace) {
			return fmt.Errorf("write run: query %q: document id %q is empty or contains whitespace", qid, r.DocID)
		}
		if math.IsNaN(r.Score) || math.IsInf(r.Score, 0) {
			return fmt.Errorf("write run: query %q document %q: score %v is not finite", qid, r.DocID, r.Score)
		}
		buf = buf[:0]
		buf = append(buf, qid...)
		buf = append(buf, " Q0 "...)
		buf = append(buf, r.DocID...)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, int64(i+1), 10)
		buf = append(buf, ' ')
		buf = strconv.AppendFloat(buf, r.Score, 'g', -1, 64)
		buf = append(buf, ' ')
		buf = append(buf, tag...)
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// isSpace matches the separators of strings.Fields, which the readers use,
// so that whatever WriteRun writes reads back as the same fields.
func isSpace(r rune) bool { return unicode.IsSpace(r) }
