package train

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/splade-go/splade/eval"
	"github.com/splade-go/splade/model"
	"github.com/splade-go/splade/tokenize"
)

var (
	toyTopics = strings.Fields("apple river engine violin tiger copper glacier pepper rocket marble falcon cotton")
	toyFiller = strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike")
)

// toyData is a collection where document (a, b) is about two topic words
// among filler words, and each document has a training and a dev query
// naming its two topics among other filler: a ranking that matches the
// topic words solves it, a random encoder does not.
func toyData(t testing.TB) (*Data, *tokenize.Tokenizer, []string) {
	t.Helper()
	vocab := append([]string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}, toyTopics...)
	vocab = append(vocab, toyFiller...)
	tok, err := tokenize.New(vocab, tokenize.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	filler := func(n int) string {
		var w []string
		for i := 0; i < n; i++ {
			w = append(w, toyFiller[r.IntN(len(toyFiller))])
		}
		return strings.Join(w, " ")
	}
	d := &Data{Docs: map[string]string{}, Queries: map[string]string{}, Qrels: eval.Qrels{}}
	for a := 0; a < len(toyTopics); a++ {
		for b := a + 1; b < len(toyTopics); b++ {
			id := fmt.Sprintf("d%d_%d", a, b)
			d.Docs[id] = fmt.Sprintf("%s %s %s %s", filler(3), toyTopics[a], filler(3), toyTopics[b])
			d.DocIDs = append(d.DocIDs, id)
			for _, split := range []string{"t", "v"} {
				q := split + id
				d.Queries[q] = fmt.Sprintf("%s %s %s", toyTopics[b], filler(2), toyTopics[a])
				d.Qrels[q] = map[string]int{id: 1}
				if split == "t" {
					d.Train = append(d.Train, q)
				} else {
					d.Dev = append(d.Dev, q)
				}
			}
		}
	}
	negs, err := d.BM25Negatives(d.Train, 10, 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Negatives = negs
	return d, tok, vocab
}

func toyModel(t testing.TB, vocab int) *Model {
	t.Helper()
	cfg := NewConfig(model.BERT, 1, 16, 2, vocab)
	cfg.MaxPositions = 32
	m, err := New(cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	m.SetThreads(2)
	return m
}

func toyConfig(out string) Config {
	return Config{Steps: 40, Batch: 8, Schedule: Schedule{Peak: 3e-3, Warmup: 4},
		LambdaQ: 1e-3, LambdaD: 1e-3, RegQ: RegL1, RegD: RegFLOPS, RampSteps: 10,
		NegDepth: 5, QueryLen: 16, DocLen: 24, EvalEvery: 20, Seed: 1, Out: out}
}

// TestTrainToy: the ranking loss goes down and the trained model ranks
// the dev queries better than the untrained one; the log and the best
// model are written.
func TestTrainToy(t *testing.T) {
	data, tok, vocab := toyData(t)
	out := t.TempDir()
	tr, err := NewTrainer(toyModel(t, len(vocab)), tok, vocab, data, toyConfig(out))
	if err != nil {
		t.Fatal(err)
	}
	before, err := tr.Evaluate()
	if err != nil {
		t.Fatal(err)
	}
	var logs []StepLog
	if err := tr.Run(func(l StepLog) { logs = append(logs, l) }); err != nil {
		t.Fatal(err)
	}
	if len(logs) != 40 {
		t.Fatalf("%d steps logged, want 40", len(logs))
	}
	mean := func(ls []StepLog) float64 {
		s := 0.0
		for _, l := range ls {
			s += l.Rank
		}
		return s / float64(len(ls))
	}
	first, last := mean(logs[:8]), mean(logs[32:])
	if !(last < 0.8*first) {
		t.Errorf("ranking loss %.3f over the first steps, %.3f over the last: not going down", first, last)
	}
	best, step := tr.Best()
	t.Logf("dev nDCG@10 untrained %.3f, trained %.3f (step %d); rank loss %.3f -> %.3f",
		before[devMetricNDCG], best, step, first, last)
	if !(best > before[devMetricNDCG]+0.1) {
		t.Errorf("trained dev nDCG@10 %.3f does not beat the untrained %.3f", best, before[devMetricNDCG])
	}
	f, err := os.Open(filepath.Join(out, LogFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	read, err := ReadLog(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(read) != 40 || read[19].Dev == nil || read[0].LambdaD != 0 || read[39].LambdaD != 1e-3 || read[39].DocNNZ <= 0 {
		t.Errorf("log: %d lines, line 20 dev %v, lambda_d %g .. %g, d_nnz %g", len(read), read[19].Dev, read[0].LambdaD, read[39].LambdaD, read[39].DocNNZ)
	}
	if _, err := model.Load(filepath.Join(out, BestDir)); err != nil {
		t.Errorf("best model: %v", err)
	}
}

// TestResume: 6 steps straight equal 3 steps, checkpoint, a new trainer
// resuming, 3 more steps, bit for bit (weights and the controller).
func TestResume(t *testing.T) {
	data, tok, vocab := toyData(t)
	cfg := toyConfig("")
	cfg.Steps, cfg.EvalEvery, cfg.TargetDocNNZ, cfg.RampSteps, cfg.Accum = 6, 0, 3, 2, 2
	data.Dev = nil
	run := func(steps int, resume string) *Trainer {
		c := cfg
		c.Out = t.TempDir()
		c.Steps = steps
		tr, err := NewTrainer(toyModel(t, len(vocab)), tok, vocab, data, c)
		if err != nil {
			t.Fatal(err)
		}
		if resume != "" {
			if err := tr.Resume(resume); err != nil {
				t.Fatal(err)
			}
		}
		if err := tr.Run(nil); err != nil {
			t.Fatal(err)
		}
		return tr
	}
	straight := run(6, "")
	half := run(3, "")
	resumed := run(6, filepath.Join(half.Cfg.Out, LastDir))
	if resumed.Step() != 6 {
		t.Fatalf("resumed run ends at step %d", resumed.Step())
	}
	for i, p := range straight.Model.Params() {
		if !slices.Equal(p.W, resumed.Model.Params()[i].W) {
			t.Fatalf("%s differs after resuming", p.Name)
		}
	}
	if straight.Ctrl.Lambda != resumed.Ctrl.Lambda || straight.Ctrl.Avg != resumed.Ctrl.Avg {
		t.Errorf("controller %+v, resumed %+v", straight.Ctrl, resumed.Ctrl)
	}
}

// TestController: documents longer than the target raise lambda_d,
// shorter ones lower it, nothing moves before Start, and one step moves
// it by at most MaxFactor.
func TestController(t *testing.T) {
	for _, c := range []struct {
		nnz  float64
		less bool
	}{{200, false}, {20, true}} {
		ctl, err := NewController(50, 0.01, 3)
		if err != nil {
			t.Fatal(err)
		}
		for s := 0; s < 3; s++ {
			if l := ctl.Update(s, c.nnz); l != 0.01 {
				t.Fatalf("lambda moved to %g before the start", l)
			}
		}
		l := ctl.Update(3, c.nnz)
		if (l < 0.01) != c.less || l == 0.01 || math.Abs(math.Log(l/0.01)) > math.Log(ctl.MaxFactor)+1e-12 {
			t.Errorf("avg nnz %g vs target 50: lambda 0.01 -> %g", c.nnz, l)
		}
	}
	if _, err := NewController(50, 0, 0); err == nil {
		t.Error("zero starting lambda accepted")
	}
}

// TestControllerTrains: with a target far below the documents' length
// the controller raises lambda_d during training.
func TestControllerTrains(t *testing.T) {
	data, tok, vocab := toyData(t)
	cfg := toyConfig(t.TempDir())
	cfg.Steps, cfg.EvalEvery, cfg.TargetDocNNZ, cfg.RampSteps = 8, 0, 1, 0
	data.Dev = nil
	tr, err := NewTrainer(toyModel(t, len(vocab)), tok, vocab, data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var logs []StepLog
	if err := tr.Run(func(l StepLog) { logs = append(logs, l) }); err != nil {
		t.Fatal(err)
	}
	if !(logs[7].LambdaD > logs[0].LambdaD) || logs[0].DocNNZ <= 1 {
		t.Errorf("d_nnz %g, lambda_d %g -> %g: not raised", logs[0].DocNNZ, logs[0].LambdaD, logs[7].LambdaD)
	}
}

// TestTeacherTrains: regressing query vectors onto teacher vectors with
// the max-logit surrogate moves the student towards the teacher (the
// loss falls) and brings collapsed queries back.
func TestTeacherTrains(t *testing.T) {
	data, tok, vocab := toyData(t)
	data.TeacherQueries = map[string]TeacherVector{}
	for _, q := range data.Train {
		var v TeacherVector
		for _, w := range strings.Fields(data.Queries[q]) {
			id, _ := tok.ID(w)
			if slices.Contains(toyTopics, w) && !slices.Contains(v.IDs, id) {
				v.IDs = append(v.IDs, id)
				v.Weights = append(v.Weights, 2)
			}
		}
		slices.Sort(v.IDs)
		data.TeacherQueries[q] = v
	}
	cfg := toyConfig(t.TempDir())
	cfg.Steps, cfg.EvalEvery, cfg.TeacherWeight, cfg.LambdaQ, cfg.LambdaD = 200, 0, 1, 0, 0
	cfg.Schedule.Peak = 3e-3
	data.Dev = nil
	tr, err := NewTrainer(toyModel(t, len(vocab)), tok, vocab, data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var logs []StepLog
	if err := tr.Run(func(l StepLog) { logs = append(logs, l) }); err != nil {
		t.Fatal(err)
	}
	// The queries first collapse to empty vectors (the teacher uses 2 of 30
	// terms); the surrogate keeps the teacher terms' logits trainable, so
	// they come back, which a squared error on the ReLU outputs cannot do.
	collapsed, revived := -1, false
	tail := 0.0
	for i, l := range logs {
		if l.QueryNNZ == 0 && collapsed < 0 {
			collapsed = i
		}
		if collapsed >= 0 && l.QueryNNZ > 0 {
			revived = true
		}
		if i >= len(logs)-20 {
			tail += l.Teacher / 20
		}
	}
	if !(tail < 0.5*logs[0].Teacher) || (collapsed >= 0 && !revived) {
		t.Errorf("teacher loss %.3f -> %.3f (mean of the last 20 steps); collapsed at step %d, revived %v",
			logs[0].Teacher, tail, collapsed+1, revived)
	}
}

// TestSample: batches are a function of (seed, step), cover every
// training query once per epoch, and draw negatives that are not
// relevant.
func TestSample(t *testing.T) {
	data, _, _ := toyData(t)
	n := len(data.Train)
	seen := map[string]int{}
	for s := 0; s*6 < n; s++ {
		a, err := data.Sample(7, s, 6, 3)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := data.Sample(7, s, 6, 3)
		if !slices.Equal(a, b) {
			t.Fatal("same (seed, step) gave different batches")
		}
		for _, ex := range a {
			seen[ex.Query]++
			if data.Qrels[ex.Query][ex.Neg] > 0 || data.Qrels[ex.Query][ex.Pos] <= 0 {
				t.Fatalf("bad example %+v", ex)
			}
			if !slices.Contains(data.Negatives[ex.Query][:3], ex.Neg) {
				t.Fatalf("negative %s beyond depth 3", ex.Neg)
			}
		}
	}
	for _, q := range data.Train {
		if seen[q] < 1 {
			t.Fatalf("query %s not drawn in the first epoch", q)
		}
	}
	tr, dv, err := SplitDev(data.Train, 0.1, 1)
	if err != nil || len(dv) != int(math.Round(0.1*float64(n))) || len(tr)+len(dv) != n {
		t.Fatalf("split: %d train, %d dev, %v", len(tr), len(dv), err)
	}
}

// TestParsers covers the input files' formats and their errors.
func TestParsers(t *testing.T) {
	negs, err := ParseNegatives(strings.NewReader("q1\td3\t1\t12.5\nq1\td1\t2\t11\n\nq2 d9\n"), "n")
	if err != nil || !slices.Equal(negs["q1"], []string{"d3", "d1"}) || !slices.Equal(negs["q2"], []string{"d9"}) {
		t.Errorf("negatives %v, %v", negs, err)
	}
	ts, err := ParseTeacherScores(strings.NewReader("q1\td1\t3.5\nq1\td2\t-1\n"), "s")
	if err != nil || ts["q1"]["d1"] != 3.5 || ts["q1"]["d2"] != -1 {
		t.Errorf("teacher scores %v, %v", ts, err)
	}
	vocab := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "river", "##s"}
	tok, _ := tokenize.New(vocab, tokenize.DefaultOptions())
	tq, err := ParseTeacherQueries(strings.NewReader("7\triver river river ##s\n"), "tq", tok, 100)
	if err != nil || !slices.Equal(tq["7"].IDs, []int32{4, 5}) || !slices.Equal(tq["7"].Weights, []float32{0.03, 0.01}) {
		t.Errorf("teacher queries %v, %v", tq, err)
	}
	d := &Data{Docs: map[string]string{"d1": "x", "d2": "y"}, Queries: map[string]string{"q": "z"}}
	if err := d.ParseTriples(strings.NewReader("q\td1\td2\n"), "tr"); err != nil || d.Triples[0] != (Triple{"q", "d1", "d2"}) {
		t.Errorf("id triples %v, %v", d.Triples, err)
	}
	txt := &Data{}
	if err := txt.ParseTriples(strings.NewReader("a query\tgood passage\tbad passage\nother\tgood passage\tbad passage\n"), "tt"); err != nil ||
		len(txt.Triples) != 2 || len(txt.Docs) != 2 || txt.Qrels[txt.Triples[0].Query][txt.Triples[0].Pos] != 1 {
		t.Errorf("text triples %v, %v", txt, err)
	}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"negatives", func() error { _, err := ParseNegatives(strings.NewReader("q1\n"), "n"); return err }(), "n:1"},
		{"scores", func() error { _, err := ParseTeacherScores(strings.NewReader("q d 1\nq d x\n"), "s"); return err }(), "s:2: bad score"},
		{"duplicate score", func() error { _, err := ParseTeacherScores(strings.NewReader("q d 1\nq d 2\n"), "s"); return err }(), "s:2: second score"},
		{"unknown piece", func() error {
			_, err := ParseTeacherQueries(strings.NewReader("1\tocean\n"), "tq", tok, 100)
			return err
		}(), "tq:1: wordpiece \"ocean\""},
		{"triple columns", d.ParseTriples(strings.NewReader("q\td1\n"), "tr"), "tr:1: want 3"},
		{"unknown id", d.ParseTriples(strings.NewReader("q\td1\td9\n"), "tr"), "tr:1: id triple"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, c.err, c.want)
		}
	}
	if TeacherScale("x/topics.dl19-passage.splade-pp-ed.tsv.gz") != 1000 || TeacherScale("topics.beir-v1.0.0-fiqa.test.splade-pp-ed.tsv.gz") != 100 {
		t.Error("teacher scale of the shared files")
	}
}

func FuzzParseTeacherQueries(f *testing.F) {
	f.Add("7\triver river ##s\n8\t\n")
	f.Add("x\n\t\n")
	vocab := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "river", "##s"}
	tok, _ := tokenize.New(vocab, tokenize.DefaultOptions())
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseTeacherQueries(strings.NewReader(s), "f", tok, 100)
		if err != nil {
			return
		}
		for id, tv := range v {
			if len(tv.IDs) != len(tv.Weights) || !slices.IsSorted(tv.IDs) {
				t.Fatalf("query %q: %v", id, tv)
			}
		}
	})
}

func FuzzParseTriplesAndScores(f *testing.F) {
	f.Add("q\td1\td2\n")
	f.Add("a\tb\tc\n\t\t\n")
	f.Add("q1 d1 2.5\n")
	f.Fuzz(func(t *testing.T, s string) {
		d := &Data{Docs: map[string]string{"d1": "x", "d2": "y"}, Queries: map[string]string{"q": "z"}}
		if err := d.ParseTriples(bytes.NewReader([]byte(s)), "f"); err == nil {
			for _, tr := range d.Triples {
				if _, ok := d.Docs[tr.Pos]; !ok {
					t.Fatalf("triple %v names a missing document", tr)
				}
			}
		}
		if sc, err := ParseTeacherScores(strings.NewReader(s), "f"); err == nil {
			for _, m := range sc {
				for _, v := range m {
					if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
						t.Fatal("non-finite score")
					}
				}
			}
		}
		ParseNegatives(strings.NewReader(s), "f")
	})
}
