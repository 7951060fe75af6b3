package eval

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseQrels checks that any input gives judgments or an error, never a
// panic, and that accepted judgments read back the same in TREC form.
func FuzzParseQrels(f *testing.F) {
	for _, s := range []string{
		"q1 0 d1 1\nq1 0 d2 0\n",
		"query-id\tcorpus-id\tscore\n1\t31715818\t1\n",
		"# c\n\nq 0 d -1\r\n",
		"1\td\t1\nq 0 d 1\n",
		"a b c d e\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		q, err := ParseQrels(strings.NewReader(in), "fuzz")
		if err != nil {
			return
		}
		var buf bytes.Buffer
		for qid, docs := range q {
			for d, rel := range docs {
				buf.WriteString(qid + " 0 " + d + " " + strconv.Itoa(rel) + "\n")
			}
		}
		back, err := ParseQrels(&buf, "back")
		if err != nil {
			t.Fatalf("re-reading accepted qrels: %v", err)
		}
		if len(back) != len(q) {
			t.Fatalf("round trip changed the number of queries: %d -> %d", len(q), len(back))
		}
	})
}

// FuzzParseRun checks that any input gives a run or an error, never a
// panic, and that an accepted run survives WriteRun and ParseRun unchanged.
func FuzzParseRun(f *testing.F) {
	for _, s := range []string{
		"q1 Q0 d1 1 2.5 tag\nq1 Q0 d2 2 2 tag\n",
		"q1 Q0 d1 1 1e309 t\n",
		"q1 Q0 d1 1 3 t\nq1 Q0 d1 2 1 t\n",
		"q Q0 d 1 -0 t\r\n\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ParseRun(strings.NewReader(in), "fuzz")
		if err != nil {
			return
		}
		var buf bytes.Buffer
		for qid, res := range r {
			if err := WriteRun(&buf, qid, res, "t"); err != nil {
				t.Fatalf("WriteRun of a parsed run: %v", err)
			}
		}
		back, err := ParseRun(&buf, "back")
		if err != nil {
			t.Fatalf("re-reading a written run: %v", err)
		}
		for qid, res := range r {
			if !slices.Equal(back[qid], res) {
				t.Fatalf("query %q: %v -> %v", qid, res, back[qid])
			}
		}
	})
}
