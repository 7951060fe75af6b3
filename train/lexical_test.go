package train

import (
	"math"
	"strings"
	"testing"
)

// TestLexicalTeacher pins the target vector on a hand-computed case:
// three documents over a vocabulary of 8 (0-2 special).
func TestLexicalTeacher(t *testing.T) {
	special := map[int32]bool{0: true, 1: true, 2: true}
	docs := [][]int32{{1, 3, 4, 4, 2}, {1, 3, 5, 2}, {1, 6, 7, 7, 7, 2}}
	lt, err := NewLexicalTeacher(docs, 8, special, 0.9, 0.4, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	idf := func(df float64) float64 { return math.Log(1 + (3-df+0.5)/(df+0.5)) }
	avg := 9.0 / 3 // non-special tokens per document
	got := make([]float32, 8)
	lt.Vector([]int32{1, 4, 4, 3, 2}, got)
	norm := 0.9 * (1 - 0.4 + 0.4*3/avg)
	want := []float64{0, 0, 0,
		0.5 * math.Sqrt(idf(2)) * 1 * 1.9 / (1 + norm),
		0.5 * math.Sqrt(idf(1)) * 2 * 1.9 / (2 + norm), 0, 0, 0}
	for j := range want {
		if math.Abs(float64(got[j])-want[j]) > 1e-6 {
			t.Errorf("term %d: got %g, want %g", j, got[j], want[j])
		}
	}
	for _, bad := range []struct {
		docs      [][]int32
		k1, b, sc float64
		want      string
	}{
		{nil, 0.9, 0.4, 1, "no documents"},
		{[][]int32{{1, 2}}, 0.9, 0.4, 1, "no token"},
		{[][]int32{{1, 9, 2}}, 0.9, 0.4, 1, "outside the vocabulary"},
		{docs, 0, 0.4, 1, "k1"},
		{docs, 0.9, 1.5, 1, "k1"},
	} {
		if _, err := NewLexicalTeacher(bad.docs, 8, special, bad.k1, bad.b, bad.sc); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: got %v, want an error containing %q", bad.docs, err, bad.want)
		}
	}
}

// TestLexicalTrains: from scratch, the lexical warm start alone (no
// ranking loss) turns the toy model into a lexical matcher: the loss
// falls, vectors stay sparse but not empty, and the dev ranking beats the
// untrained model's.
func TestLexicalTrains(t *testing.T) {
	data, tok, vocab := toyData(t)
	cfg := toyConfig(t.TempDir())
	cfg.Steps, cfg.EvalEvery, cfg.LexicalWeight, cfg.LambdaQ, cfg.LambdaD = 120, 0, 1, 0, 0
	cfg.Schedule.Peak = 1e-2
	tr, err := NewTrainer(toyModel(t, len(vocab)), tok, vocab, data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Cfg.RankWeight != 0 {
		t.Fatalf("rank weight %g with only the lexical loss asked for", tr.Cfg.RankWeight)
	}
	before, err := tr.Evaluate()
	if err != nil {
		t.Fatal(err)
	}
	var logs []StepLog
	if err := tr.Run(func(l StepLog) { logs = append(logs, l) }); err != nil {
		t.Fatal(err)
	}
	after, err := tr.Evaluate()
	if err != nil {
		t.Fatal(err)
	}
	first, last := logs[0], logs[len(logs)-1]
	t.Logf("lexical loss %.3f -> %.3f; doc nnz %.1f -> %.1f; dev nDCG@10 %.3f -> %.3f",
		first.Lexical, last.Lexical, first.DocNNZ, last.DocNNZ, before[devMetricNDCG], after[devMetricNDCG])
	if !(last.Lexical < 0.5*first.Lexical) {
		t.Errorf("lexical loss %.3f -> %.3f: not falling", first.Lexical, last.Lexical)
	}
	// Documents have 8 words (2 topics, 6 filler, some repeated).
	if !(after["d_nnz"] >= 2 && after["d_nnz"] <= 10) {
		t.Errorf("documents end with %.1f terms, want a sparse lexical vector (2-10)", after["d_nnz"])
	}
	if !(after[devMetricNDCG] > before[devMetricNDCG]+0.2) {
		t.Errorf("dev nDCG@10 %.3f after the lexical stage, %.3f before", after[devMetricNDCG], before[devMetricNDCG])
	}
}
