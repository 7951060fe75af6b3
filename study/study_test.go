package study

import (
	"bytes"
	"strings"
	"testing"
)

const sample = "label\tlambda_d\tlambda_q\tndcg_cut_10\tflops\tdocs_nnz_mean\tqueries_nnz_mean\textra\n" +
	"1e-4\t0.0001\t0.0001\t0.61\t5.2\t310\t40\tx\n" +
	"1e-3\t0.001\t0.001\t0.60\t1.1\t120\t25\ty\n"

func TestReadPoints(t *testing.T) {
	ps, err := ReadPoints(strings.NewReader(sample), "s.tsv")
	if err != nil {
		t.Fatal(err)
	}
	want := []Point{{"1e-4", 1e-4, 1e-4, 0.61, 5.2, 310, 40}, {"1e-3", 1e-3, 1e-3, 0.60, 1.1, 120, 25}}
	if len(ps) != len(want) {
		t.Fatalf("got %d points, want %d", len(ps), len(want))
	}
	for i := range want {
		if ps[i] != want[i] {
			t.Errorf("point %d: got %+v, want %+v", i, ps[i], want[i])
		}
	}
}

func TestReadPointsErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "empty"},
		{"label\tlambda_d\n", "lacks column"},
		{strings.SplitAfter(sample, "\n")[0], "no points"},
		{strings.SplitAfter(sample, "\n")[0] + "a\t1\t1\t0.5\t1\t1\n", "s.tsv:2: 6 columns"},
		{strings.SplitAfter(sample, "\n")[0] + "a\t1\t1\tx\t1\t1\t1\t-\n", "s.tsv:2: column ndcg_cut_10"},
		{strings.SplitAfter(sample, "\n")[0] + "a\t1\t1\t1.5\t1\t1\t1\t-\n", "above 1"},
		{strings.SplitAfter(sample, "\n")[0] + "a\t1\t1\t0.5\t-1\t1\t1\t-\n", "column flops"},
	} {
		_, err := ReadPoints(strings.NewReader(c.in), "s.tsv")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got error %v, want one containing %q", c.in, err, c.want)
		}
	}
}

func TestParseBaseline(t *testing.T) {
	b, err := ParseBaseline("BM25 (Anserini)=0.6789")
	if err != nil || b.Label != "BM25 (Anserini)" || b.NDCG10 != 0.6789 {
		t.Errorf("got %+v, %v", b, err)
	}
	for _, bad := range []string{"BM25", "=0.5", "x=abc", "x=1.5"} {
		if _, err := ParseBaseline(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestFigure draws both panels as SVG and checks that every model label
// and baseline made it into the drawing.
func TestFigure(t *testing.T) {
	ps, err := ReadPoints(strings.NewReader(sample), "s.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	bs := []Baseline{{"BM25", 0.6789}}
	if err := Figure(&buf, ps, bs, "SciFact test", "svg"); err != nil {
		t.Fatal(err)
	}
	svg := buf.String()
	if !strings.HasPrefix(strings.TrimSpace(svg), "<?xml") || !strings.Contains(svg, "<svg") {
		t.Fatalf("not an SVG document: %.80q", svg)
	}
	for _, s := range []string{"1e-4", "1e-3", "BM25 (0.6789)", "nDCG@10", "SciFact test", "FLOPS"} {
		if !strings.Contains(svg, s) {
			t.Errorf("figure lacks %q", s)
		}
	}
	if err := Figure(&buf, nil, bs, "", "svg"); err == nil {
		t.Error("empty figure accepted")
	}
	zero := []Point{{Label: "z", NDCG10: 0.5}}
	if err := Figure(&buf, zero, nil, "", "svg"); err == nil {
		t.Error("zero FLOPS accepted on a log axis")
	}
}

// TestLogTicksLabelWithinADecade: a FLOPS axis from 1.3 to 5.5 gets
// labels (2 and 5), which plot.LogTicks would not give.
func TestLogTicksLabelWithinADecade(t *testing.T) {
	var labels []string
	for _, tk := range (logTicks{}).Ticks(1.3, 5.5) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
		if tk.Value < 1.3 || tk.Value > 5.5 {
			t.Errorf("tick %v outside the range", tk.Value)
		}
	}
	if strings.Join(labels, ",") != "2,5" {
		t.Errorf("labels %v, want 2 and 5", labels)
	}
}
