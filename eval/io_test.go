package eval

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/splade-go/splade/internal/shareddata"
)

func TestParseQrels(t *testing.T) {
	cases := []struct {
		name, in string
		want     Qrels
	}{
		{"trec", "q1 0 d1 1\nq1 0 d2 0\nq2 Q0 d1 2\n", Qrels{"q1": {"d1": 1, "d2": 0}, "q2": {"d1": 2}}},
		{"trec with comments, blanks, tabs and CRLF", "# judged\r\n\nq1\t0\td1\t1\r\n  q1 0  d2 -1\n", Qrels{"q1": {"d1": 1, "d2": -1}}},
		{"beir with header", "query-id\tcorpus-id\tscore\n1\t31715818\t1\n3\t14717500\t2\n", Qrels{"1": {"31715818": 1}, "3": {"14717500": 2}}},
		{"beir without header", "1\t31715818\t1\n", Qrels{"1": {"31715818": 1}}},
		{"empty", "", Qrels{}},
	}
	for _, c := range cases {
		got, err := ParseQrels(strings.NewReader(c.in), "x")
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestParseQrelsErrors(t *testing.T) {
	cases := []struct {
		name, in, wantErr string
	}{
		{"duplicate", "q1 0 d1 1\nq1 0 d1 0\n", "x:2: duplicate judgment"},
		{"too few fields", "q1 d1\n", "x:1: qrels line has 2 fields"},
		{"three fields read as BEIR", "q1 0 d1\n", "x:1: relevance \"d1\""},
		{"field count changes", "q1 0 d1 1\nq1 d2 1\n", "x:2: TREC qrels line has 3 fields"},
		{"not integer", "q1 0 d1 1.5\n", "x:1: relevance \"1.5\""},
		{"header in the middle", "1\td\t1\nquery-id\tcorpus-id\tscore\n", "x:2: relevance \"score\""},
		{"five fields", "a b c d e\n", "x:1: qrels line has 5 fields"},
	}
	for _, c := range cases {
		_, err := ParseQrels(strings.NewReader(c.in), "x")
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.wantErr)
		}
	}
}

func TestParseRun(t *testing.T) {
	in := "q1 Q0 d1 1 2.5 tag\nq2 Q0 d9 1 -1e3 tag\n\nq1\tQ0\td2\t2\t2\ttag\r\n"
	got, err := ParseRun(strings.NewReader(in), "r")
	if err != nil {
		t.Fatal(err)
	}
	want := Run{"q1": {{"d1", 2.5}, {"d2", 2}}, "q2": {{"d9", -1000}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestParseRunErrors(t *testing.T) {
	cases := []struct {
		name, in, wantErr string
	}{
		{"five fields", "q1 Q0 d1 1 2.5\n", "r:1: run line has 5 fields"},
		{"score", "q1 Q0 d1 1 high t\n", "r:1: score \"high\""},
		{"nan", "q1 Q0 d1 1 NaN t\n", "r:1: score \"NaN\""},
		{"rank", "q1 Q0 d1 one 1 t\n", "r:1: rank \"one\""},
		{"duplicate", "q1 Q0 d1 1 3 t\nq2 Q0 d1 1 3 t\nq1 Q0 d2 2 2 t\nq1 Q0 d1 3 1 t\n", "r:4: query \"q1\" lists document \"d1\" twice (also line 1)"},
	}
	for _, c := range cases {
		_, err := ParseRun(strings.NewReader(c.in), "r")
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.wantErr)
		}
	}
}

func TestWriteRunRoundTrip(t *testing.T) {
	res := []Result{{"d3", 3.25}, {"d1", 1.0 / 3}, {"d2", -0.0001}}
	var buf bytes.Buffer
	if err := WriteRun(&buf, "q7", res, "splade"); err != nil {
		t.Fatal(err)
	}
	if first := strings.SplitN(buf.String(), "\n", 2)[0]; first != "q7 Q0 d3 1 3.25 splade" {
		t.Errorf("first line %q", first)
	}
	got, err := ParseRun(&buf, "buf")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got["q7"], res) {
		t.Errorf("round trip: got %v, want %v", got["q7"], res)
	}
	for _, bad := range []struct {
		qid, tag string
		res      []Result
	}{
		{"q 1", "t", nil},
		{"q", "", nil},
		{"q", "t", []Result{{"d 1", 1}}},
		{"q", "t", []Result{{"d", 0}, {"e", nanValue()}}},
	} {
		if err := WriteRun(&bytes.Buffer{}, bad.qid, bad.res, bad.tag); err == nil {
			t.Errorf("WriteRun(%q, %v, %q): want an error", bad.qid, bad.res, bad.tag)
		}
	}
}

func nanValue() float64 { var z float64; return z / z }

func TestReadFilesGzip(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "qrels.txt.gz")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("q1 0 d1 1\n"))
	zw.Close()
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	q, err := ReadQrels(p)
	if err != nil || q["q1"]["d1"] != 1 {
		t.Fatalf("ReadQrels gz: %v %v", q, err)
	}
	if _, err := ReadRun(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing run file: want an error")
	}
}

// The real SciFact test qrels: 300 queries, 339 judgments, all relevant.
// A run that returns exactly the judged documents scores 1 everywhere.
func TestSciFactQrels(t *testing.T) {
	path := filepath.Join(shareddata.Require(t, "beir/scifact"), "qrels", "test.tsv")
	q, err := ReadQrels(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	r := make(Run)
	for qid, docs := range q {
		for d := range docs {
			n++
			r[qid] = append(r[qid], Result{d, 1})
		}
	}
	if len(q) != 300 || n != 339 {
		t.Fatalf("got %d queries, %d judgments; want 300, 339", len(q), n)
	}
	rep, err := Evaluate(q, r, DefaultMetrics)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range rep.Metrics {
		if rep.Mean[m] != 1 {
			t.Errorf("%s = %v, want 1 for the oracle run", m, rep.Mean[m])
		}
	}
}

// DL19 graded qrels (levels 0-3) in TREC form: the ideal ranking by level
// gets nDCG 1, and reversing it does not.
func TestDL19GradedQrels(t *testing.T) {
	path := filepath.Join(shareddata.Require(t, "msmarco-queries"), "qrels.dl19-passage.txt")
	q, err := ReadQrels(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 43 {
		t.Fatalf("got %d queries, want 43", len(q))
	}
	ideal, reversed := make(Run), make(Run)
	for qid, docs := range q {
		for d, rel := range docs {
			ideal[qid] = append(ideal[qid], Result{d, float64(rel)})
			reversed[qid] = append(reversed[qid], Result{d, float64(-rel)})
		}
	}
	repI, err := Evaluate(q, ideal, []string{"ndcg_cut_10"})
	if err != nil {
		t.Fatal(err)
	}
	repR, err := Evaluate(q, reversed, []string{"ndcg_cut_10"})
	if err != nil {
		t.Fatal(err)
	}
	if !near(repI.Mean["ndcg_cut_10"], 1) || repR.Mean["ndcg_cut_10"] > 0.2 {
		t.Errorf("ideal nDCG@10 = %v (want 1), reversed = %v (want < 0.2)", repI.Mean["ndcg_cut_10"], repR.Mean["ndcg_cut_10"])
	}
}
