package eval

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12 }

// One graded query worked by hand. Judgments d1:2 d2:1 d3:0 d4:1 (three
// relevant, ideal gains 2,1,1); the run ranks dA(unjudged) d2 d3 d1 dB, so
// the relevance list is 0 1 0 2 0.
func TestMetricsHandComputed(t *testing.T) {
	q := Qrels{"q1": {"d1": 2, "d2": 1, "d3": 0, "d4": 1}}
	r := Run{"q1": {
		{"d1", 1.0}, {"dB", 0.5}, {"d3", 1.5}, {"dA", 3.0}, {"d2", 2.0}, // any order
	}}
	l3 := math.Log2(3)
	idcg3 := 2 + 1/l3 + 1/math.Log2(4)
	cases := []struct {
		metric string
		want   float64
	}{
		{"ndcg_cut_1", 0},
		{"ndcg_cut_3", (1 / l3) / idcg3},
		{"ndcg_cut_5", (1/l3 + 2/math.Log2(5)) / idcg3},
		{"ndcg_cut_100", (1/l3 + 2/math.Log2(5)) / idcg3}, // ideal has only 3 gains
		{"ndcg_cut.5", (1/l3 + 2/math.Log2(5)) / idcg3},   // trec_eval spelling
		{"recall_1", 0},
		{"recall_3", 1.0 / 3},
		{"recall_5", 2.0 / 3},
		{"recall_1000", 2.0 / 3}, // d4 never retrieved
		{"P_2", 0.5},
		{"P_5", 0.4},
		{"P_10", 0.2}, // missing ranks count as non-relevant
		{"map", (1.0/2 + 2.0/4) / 3},
		{"map_cut_2", (1.0 / 2) / 3},
		{"recip_rank", 0.5},
		{"mrr_1", 0},
		{"mrr_2", 0.5},
		{"mrr_10", 0.5},
		{"recip_rank_cut_10", 0.5},
	}
	for _, c := range cases {
		rep, err := Evaluate(q, r, []string{c.metric})
		if err != nil {
			t.Fatalf("%s: %v", c.metric, err)
		}
		name := rep.Metrics[0]
		if got := rep.Mean[name]; !near(got, c.want) {
			t.Errorf("%s = %.6f, want %.6f", c.metric, got, c.want)
		}
	}
}

// Ties are broken as trec_eval does: descending docid, and scores compared
// after rounding to float32.
func TestTies(t *testing.T) {
	cases := []struct {
		name string
		run  []Result
		rel  string
		want float64 // recip_rank
	}{
		{"docid descending puts x before b and a", []Result{{"a", 1}, {"x", 1}, {"b", 1}}, "x", 1},
		{"z before x", []Result{{"a", 1}, {"x", 1}, {"z", 1}}, "x", 0.5},
		{"lowest docid last", []Result{{"a", 1}, {"x", 1}, {"z", 1}}, "a", 1.0 / 3},
		{"strcmp: upper case sorts before lower case", []Result{{"B", 1}, {"a", 1}}, "a", 1},
		{"float32 equal scores tie", []Result{{"a", 1.0000000001}, {"b", 1.0}}, "a", 0.5},
		{"distinct float32 scores do not tie", []Result{{"a", 1.001}, {"b", 1.0}}, "a", 1},
		{"rank column is ignored, scores decide", []Result{{"z", 0.1}, {"a", 0.2}}, "a", 1},
	}
	for _, c := range cases {
		q := Qrels{"q": {c.rel: 1}}
		rep, err := Evaluate(q, Run{"q": c.run}, []string{"recip_rank"})
		if err != nil {
			t.Fatal(err)
		}
		if got := rep.Mean["recip_rank"]; !near(got, c.want) {
			t.Errorf("%s: recip_rank = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestQuerySelection(t *testing.T) {
	q := Qrels{
		"q1": {"a": 1},          // retrieved at rank 1
		"q2": {"b": 1},          // missing from the run
		"q3": {"c": 0, "d": -1}, // judged, nothing relevant
	}
	r := Run{
		"q1": {{"a", 2}, {"x", 1}},
		"q3": {{"c", 1}},
		"q9": {{"a", 1}}, // not judged: ignored
	}
	cases := []struct {
		opt      Options
		wantN    int
		wantMean float64
	}{
		{Options{}, 2, (1 + 0) / 2.0},                   // q1, q3
		{Options{Complete: true}, 3, (1 + 0 + 0) / 3.0}, // q2 scored 0
	}
	for _, c := range cases {
		rep, err := EvaluateWith(q, r, []string{"recip_rank"}, c.opt)
		if err != nil {
			t.Fatal(err)
		}
		if rep.NumQueries != c.wantN || !near(rep.Mean["recip_rank"], c.wantMean) {
			t.Errorf("complete=%v: n=%d mean=%v, want n=%d mean=%v", c.opt.Complete, rep.NumQueries, rep.Mean["recip_rank"], c.wantN, c.wantMean)
		}
		if rep.RunOnly != 1 || rep.QrelsOnly != 1 {
			t.Errorf("complete=%v: RunOnly=%d QrelsOnly=%d, want 1 and 1", c.opt.Complete, rep.RunOnly, rep.QrelsOnly)
		}
	}
	if _, err := Evaluate(Qrels{"a": {"d": 1}}, Run{"b": {{"d", 1}}}, []string{"map"}); err == nil {
		t.Error("no overlapping queries: want an error")
	}
}

func TestNegativeAndZeroRelevance(t *testing.T) {
	// Levels <= 0 are neither gains nor relevant.
	q := Qrels{"q": {"a": -1, "b": 0, "c": 1}}
	r := Run{"q": {{"a", 3}, {"b", 2}, {"c", 1}}}
	rep, err := Evaluate(q, r, []string{"ndcg_cut_10", "map", "recall_2", "recip_rank"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"ndcg_cut_10": 1 / math.Log2(4), "map": 1.0 / 3, "recall_2": 0, "recip_rank": 1.0 / 3}
	for m, w := range want {
		if !near(rep.Mean[m], w) {
			t.Errorf("%s = %v, want %v", m, rep.Mean[m], w)
		}
	}
}

func TestMeanOverQueries(t *testing.T) {
	q := Qrels{"1": {"a": 1}, "2": {"a": 1, "b": 1}}
	r := Run{"1": {{"a", 1}}, "2": {{"a", 2}, {"x", 1.5}, {"b", 1}}}
	rep, err := Evaluate(q, r, []string{"map", "P_1"})
	if err != nil {
		t.Fatal(err)
	}
	if w := (1 + (1+2.0/3)/2) / 2; !near(rep.Mean["map"], w) {
		t.Errorf("map = %v, want %v", rep.Mean["map"], w)
	}
	if !near(rep.PerQuery["2"]["map"], (1+2.0/3)/2) {
		t.Errorf("per-query map of 2 = %v", rep.PerQuery["2"]["map"])
	}
	if !near(rep.Mean["P_1"], 1) {
		t.Errorf("P_1 = %v, want 1", rep.Mean["P_1"])
	}
}

func TestBadMetrics(t *testing.T) {
	q := Qrels{"q": {"a": 1}}
	r := Run{"q": {{"a", 1}}}
	for _, m := range [][]string{{"ndcg"}, {"ndcg_cut_0"}, {"recall_x"}, {"P_-1"}, {"map", "map"}, {}} {
		if _, err := Evaluate(q, r, m); err == nil {
			t.Errorf("metrics %q: want an error", m)
		}
	}
}

func TestWriteTREC(t *testing.T) {
	q := Qrels{"q2": {"a": 1}, "q10": {"b": 1}}
	r := Run{"q2": {{"a", 1}}, "q10": {{"x", 2}, {"b", 1}}}
	rep, err := Evaluate(q, r, []string{"recip_rank", "P_1"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.WriteTREC(&buf, true); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"recip_rank\tq10\t0.5000",
		"P_1\tq10\t0.0000",
		"recip_rank\tq2\t1.0000",
		"P_1\tq2\t1.0000",
		"recip_rank\tall\t0.7500",
		"P_1\tall\t0.5000",
	}, "\n") + "\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}
