package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/splade-go/splade/eval"
	"github.com/splade-go/splade/kernels"
	"github.com/splade-go/splade/model"
	"github.com/splade-go/splade/tokenize"
)

// Config is a ranking-stage training run.
type Config struct {
	Steps int // optimizer steps
	Batch int // queries per micro-batch (each with a positive and a negative)
	Accum int // micro-batches per step (gradient accumulation; 0 or 1: none)

	Schedule Schedule // learning rate (Total 0: Steps)

	LambdaQ, LambdaD float64     // regularization weights at the end of the ramp
	RegQ, RegD       Regularizer // FLOPS or L1
	RampSteps        int         // quadratic ramp of both lambdas (RampLambda)
	TargetDocNNZ     float64     // > 0: steer lambda_d towards this document length (Controller)

	RankWeight    float64 // in-batch + hard-negative cross-entropy (0: 1 unless another loss weight is set)
	MarginWeight  float64 // MarginMSE on teacher scores
	TeacherWeight float64 // regression onto teacher query vectors
	LexicalWeight float64 // regression of queries and documents onto BM25 vectors (LexicalTeacher)
	LexicalScale  float64 // s of LexicalTeacher (0: 0.5)

	NegDepth         int // draw the negative among the first NegDepth candidates (0: all)
	QueryLen, DocLen int // tokens per text including [CLS] and [SEP]

	EvalEvery  int    // dev evaluation period in steps (0: only at the end)
	Patience   int    // stop after this many evaluations without improvement (0: never)
	EvalMetric string // the metric that selects the best checkpoint (default ndcg_cut_10)
	EvalDocs   int    // > 0: evaluate on the dev queries' relevant documents plus random others, this many in all
	SaveEvery  int    // write the resumable checkpoint every so many steps (0: at the end)

	Seed uint64
	Out  string // output directory (see Trainer.Run)
}

// Output layout of a run.
const (
	LogFile       = "train_log.jsonl"         // one StepLog per line
	BestDir       = "best"                    // the best model on the dev split (HF layout)
	LastDir       = "last"                    // the latest resumable checkpoint
	RunStateFile  = "splade_train_state.json" // trainer state next to the optimizer's
	devMetricMRR  = "mrr_10"
	devMetricNDCG = "ndcg_cut_10"
)

// StepLog is one line of the training log.
type StepLog struct {
	Step     int                `json:"step"`
	Loss     float64            `json:"loss"`
	Rank     float64            `json:"rank"`
	Margin   float64            `json:"margin_mse,omitempty"`
	Teacher  float64            `json:"teacher,omitempty"`
	Lexical  float64            `json:"lexical,omitempty"`
	RegQ     float64            `json:"reg_q"`
	RegD     float64            `json:"reg_d"`
	LambdaQ  float64            `json:"lambda_q"`
	LambdaD  float64            `json:"lambda_d"`
	QueryNNZ float64            `json:"q_nnz"`
	DocNNZ   float64            `json:"d_nnz"`
	LR       float64            `json:"lr"`
	GradNorm float64            `json:"grad_norm"`
	Seconds  float64            `json:"step_seconds"`
	Dev      map[string]float64 `json:"dev,omitempty"`
}

// runState is RunStateFile.
type runState struct {
	Step       int         `json:"step"`
	Best       float64     `json:"best"`
	BestStep   int         `json:"best_step"`
	Bad        int         `json:"evals_without_improvement"`
	Controller *Controller `json:"controller,omitempty"`
}

// Trainer runs the ranking stage of SPLADE training on a Model.
type Trainer struct {
	Model *Model
	Opt   *AdamW
	Tok   *tokenize.Tokenizer
	Vocab []string
	Data  *Data
	Cfg   Config
	Ctrl  *Controller     // nil without a target document length
	Lex   *LexicalTeacher // nil without LexicalWeight

	state      runState
	qAct, dAct Activations
	ids        map[string][]int32 // token ids by "q:" / "d:" + id
}

// NewTrainer checks the configuration and prepares a run.
func NewTrainer(m *Model, tok *tokenize.Tokenizer, vocab []string, data *Data, cfg Config) (*Trainer, error) {
	if cfg.Steps <= 0 || cfg.Batch <= 0 {
		return nil, fmt.Errorf("steps (%d) and batch (%d) must be positive", cfg.Steps, cfg.Batch)
	}
	if len(vocab) != m.Config.Vocab {
		return nil, fmt.Errorf("vocabulary of %d tokens for a model of %d", len(vocab), m.Config.Vocab)
	}
	if cfg.Accum <= 0 {
		cfg.Accum = 1
	}
	if cfg.Schedule.Total == 0 {
		cfg.Schedule.Total = cfg.Steps
	}
	if cfg.RankWeight == 0 && cfg.MarginWeight == 0 && cfg.TeacherWeight == 0 && cfg.LexicalWeight == 0 {
		cfg.RankWeight = 1
	}
	if cfg.RankWeight < 0 || cfg.MarginWeight < 0 || cfg.TeacherWeight < 0 || cfg.LexicalWeight < 0 ||
		cfg.LexicalScale < 0 || cfg.LambdaQ < 0 || cfg.LambdaD < 0 {
		return nil, fmt.Errorf("loss weights and lambdas must not be negative")
	}
	for _, r := range []Regularizer{cfg.RegQ, cfg.RegD} {
		if _, err := r.Apply(nil, 1, 0, nil); err != nil {
			return nil, err
		}
	}
	if cfg.QueryLen <= 0 {
		cfg.QueryLen = 32
	}
	if cfg.DocLen <= 0 {
		cfg.DocLen = 256
	}
	cfg.QueryLen = min(cfg.QueryLen, m.Config.MaxPositions)
	cfg.DocLen = min(cfg.DocLen, m.Config.MaxPositions)
	if cfg.EvalMetric == "" {
		cfg.EvalMetric = devMetricNDCG
	}
	if cfg.EvalMetric != devMetricNDCG && cfg.EvalMetric != devMetricMRR {
		return nil, fmt.Errorf("eval metric %q: want %s or %s", cfg.EvalMetric, devMetricNDCG, devMetricMRR)
	}
	if cfg.Out == "" {
		return nil, fmt.Errorf("no output directory")
	}
	if cfg.TeacherWeight > 0 && len(data.TeacherQueries) == 0 {
		return nil, fmt.Errorf("teacher weight %g without teacher query vectors", cfg.TeacherWeight)
	}
	if cfg.MarginWeight > 0 && len(data.TeacherScores) == 0 {
		return nil, fmt.Errorf("margin-MSE weight %g without teacher scores", cfg.MarginWeight)
	}
	t := &Trainer{Model: m, Tok: tok, Vocab: vocab, Data: data, Cfg: cfg, ids: map[string][]int32{},
		Opt:   NewAdamW(m.Params(), cfg.Schedule),
		state: runState{BestStep: -1}}
	t.Opt.SetThreads(m.Threads())
	if cfg.LexicalWeight > 0 {
		if err := t.initLexical(); err != nil {
			return nil, err
		}
	}
	if cfg.TargetDocNNZ > 0 {
		c, err := NewController(cfg.TargetDocNNZ, cfg.LambdaD, cfg.RampSteps)
		if err != nil {
			return nil, err
		}
		t.Ctrl = c
		t.state.Controller = c
	}
	return t, nil
}

// initLexical builds the BM25 teacher from the collection's documents as
// the model sees them (truncated to DocLen).
func (t *Trainer) initLexical() error {
	ids := t.Data.DocIDs
	if len(ids) == 0 {
		for id := range t.Data.Docs {
			ids = append(ids, id)
		}
		sort.Strings(ids)
	}
	docs := make([][]int32, len(ids))
	for i, id := range ids {
		docs[i] = t.tokens(false, id)
	}
	special := map[int32]bool{t.Tok.PadID(): true, t.Tok.CLSID(): true, t.Tok.SEPID(): true}
	scale := t.Cfg.LexicalScale
	if scale == 0 {
		scale = 0.5
	}
	lex, err := NewLexicalTeacher(docs, t.Model.Config.Vocab, special, 0.9, 0.4, scale)
	t.Lex = lex
	return err
}

// lexicalLoss adds into dm ([texts][V], the max-logit gradient) the
// gradient of the regression of the batch's vectors onto their BM25
// vectors, and into dz (one per token) that of the presence of each
// token's term at its position; it returns the loss.
func (t *Trainer) lexicalLoss(a *Activations, batch [][]int32, weight float64, dm, dz []float32) (float64, error) {
	V := t.Model.Config.Vocab
	target := make([]float32, len(batch)*V)
	var use []bool
	for i, ids := range batch {
		t.Lex.Vector(ids, target[i*V:(i+1)*V])
		for _, id := range ids {
			use = append(use, !t.Lex.special[id])
		}
	}
	reg, err := TeacherRegression(a.MaxLogits(), target, V, nil, weight, dm)
	if err != nil {
		return 0, err
	}
	pres, err := PresenceLoss(a.TokenLogits(t.Model), use, len(batch), weight, dz)
	return reg + pres, err
}

// Step returns the number of optimizer steps done.
func (t *Trainer) Step() int { return t.state.Step }

// tokens returns (cached) token ids of a query or document.
func (t *Trainer) tokens(query bool, id string) []int32 {
	key, text, n := "d:"+id, t.Data.Docs[id], t.Cfg.DocLen
	if query {
		key, text, n = "q:"+id, t.Data.Queries[id], t.Cfg.QueryLen
	}
	if ids, ok := t.ids[key]; ok {
		return ids
	}
	ids := t.Tok.Encode(text, n)
	t.ids[key] = ids
	return ids
}

// TrainStep runs one optimizer step (Accum micro-batches) and returns its
// log line (without Dev).
func (t *Trainer) TrainStep() (StepLog, error) {
	start := time.Now()
	cfg := &t.Cfg
	step := t.state.Step
	V := t.Model.Config.Vocab
	lamQ := RampLambda(cfg.LambdaQ, step, cfg.RampSteps)
	baseD := cfg.LambdaD
	if t.Ctrl != nil {
		baseD = t.Ctrl.Lambda
	}
	lamD := RampLambda(baseD, step, cfg.RampSteps)
	lg := StepLog{Step: step + 1, LambdaQ: lamQ, LambdaD: lamD}
	t.Model.ZeroGrad()
	inv := 1 / float64(cfg.Accum)
	for micro := 0; micro < cfg.Accum; micro++ {
		exs, err := t.Data.Sample(cfg.Seed, step*cfg.Accum+micro, cfg.Batch, cfg.NegDepth)
		if err != nil {
			return lg, err
		}
		B := len(exs)
		qBatch := make([][]int32, B)
		dBatch := make([][]int32, 2*B)
		docIDs := make([]string, 2*B)
		for i, ex := range exs {
			qBatch[i] = t.tokens(true, ex.Query)
			docIDs[i], docIDs[B+i] = ex.Pos, ex.Neg
		}
		for k, id := range docIDs {
			dBatch[k] = t.tokens(false, id)
		}
		if err := t.Model.ForwardInto(&t.qAct, qBatch, kernels.PoolMax); err != nil {
			return lg, fmt.Errorf("queries: %w", err)
		}
		if err := t.Model.ForwardInto(&t.dAct, dBatch, kernels.PoolMax); err != nil {
			return lg, fmt.Errorf("documents: %w", err)
		}
		qv, dv := t.qAct.Vectors(), t.dAct.Vectors()
		dq, dd := make([]float32, len(qv)), make([]float32, len(dv))
		S := Scores(qv, dv, V)
		dS := make([]float64, len(S))
		pos, neg := make([]int, B), make([]int, B)
		margin, useM := make([]float64, B), make([]bool, B)
		for i, ex := range exs {
			pos[i], neg[i] = i, B+i
			margin[i], useM[i] = ex.Margin, ex.HasMargin
		}
		// Leave out of query i's softmax the copies of its positive and the
		// documents judged relevant to it.
		skip := func(i, k int) bool {
			return docIDs[k] == docIDs[i] || t.Data.Qrels[exs[i].Query][docIDs[k]] > 0
		}
		if cfg.RankWeight > 0 {
			l, err := RankingCE(S, B, 2*B, pos, skip, cfg.RankWeight*inv, dS)
			if err != nil {
				return lg, err
			}
			lg.Rank += l * inv
		}
		if cfg.MarginWeight > 0 {
			l, err := MarginMSE(S, B, 2*B, pos, neg, margin, useM, cfg.MarginWeight*inv, dS)
			if err != nil {
				return lg, err
			}
			lg.Margin += l * inv
		}
		ScoresBackward(qv, dv, V, dS, dq, dd)
		rq, _ := cfg.RegQ.Apply(qv, V, lamQ*inv, dq)
		rd, _ := cfg.RegD.Apply(dv, V, lamD*inv, dd)
		lg.RegQ += rq * inv
		lg.RegD += rd * inv
		var dm, dmd, dzq, dzd []float32
		if cfg.LexicalWeight > 0 {
			dm, dmd = make([]float32, len(qv)), make([]float32, len(dv))
			dzq, dzd = make([]float32, t.qAct.n), make([]float32, t.dAct.n)
			lq, err := t.lexicalLoss(&t.qAct, qBatch, cfg.LexicalWeight*inv/2, dm, dzq)
			if err != nil {
				return lg, err
			}
			ld, err := t.lexicalLoss(&t.dAct, dBatch, cfg.LexicalWeight*inv/2, dmd, dzd)
			if err != nil {
				return lg, err
			}
			lg.Lexical += (lq + ld) / 2 * inv
		}
		if cfg.TeacherWeight > 0 {
			teacher := make([]float32, len(qv))
			use := make([]bool, B)
			for i, ex := range exs {
				tv, ok := t.Data.TeacherQueries[ex.Query]
				if !ok {
					continue
				}
				use[i] = true
				for k, id := range tv.IDs {
					if int(id) < V {
						teacher[i*V+int(id)] = tv.Weights[k]
					}
				}
			}
			if dm == nil {
				dm = make([]float32, len(qv))
			}
			l, err := TeacherRegression(t.qAct.MaxLogits(), teacher, V, use, cfg.TeacherWeight*inv, dm)
			if err != nil {
				return lg, err
			}
			lg.Teacher += l * inv
		}
		lg.QueryNNZ += avgNNZ(qv, V) * inv
		lg.DocNNZ += avgNNZ(dv, V) * inv
		if err := t.Model.BackwardTokenLogits(&t.qAct, dq, dm, dzq); err != nil {
			return lg, err
		}
		if err := t.Model.BackwardTokenLogits(&t.dAct, dd, dmd, dzd); err != nil {
			return lg, err
		}
	}
	lg.Loss = cfg.RankWeight*lg.Rank + cfg.MarginWeight*lg.Margin + cfg.TeacherWeight*lg.Teacher + cfg.LexicalWeight*lg.Lexical +
		lamQ*lg.RegQ + lamD*lg.RegD
	lg.GradNorm, lg.LR = t.Opt.Step()
	if t.Ctrl != nil {
		t.Ctrl.Update(step, lg.DocNNZ)
	}
	t.state.Step++
	lg.Seconds = time.Since(start).Seconds()
	return lg, nil
}

// avgNNZ returns the average number of non-zero terms of the rows of w.
func avgNNZ(w []float32, V int) float64 {
	n := 0
	for _, v := range w {
		if v != 0 {
			n++
		}
	}
	return float64(n) / float64(len(w)/V)
}

// Evaluate encodes the dev queries and the collection (or EvalDocs of it)
// with the current weights, retrieves exhaustively by dot product and
// returns nDCG@10 and MRR@10 (package eval, trec_eval's definitions), and
// the average non-zeros of the encoded queries and documents ("q_nnz",
// "d_nnz").
func (t *Trainer) Evaluate() (map[string]float64, error) {
	if len(t.Data.Dev) == 0 {
		return nil, fmt.Errorf("no dev queries")
	}
	im, err := t.Model.Inference()
	if err != nil {
		return nil, err
	}
	enc, err := model.NewEncoder(im, nil, model.Options{Threads: t.Model.Threads()})
	if err != nil {
		return nil, err
	}
	docs := t.evalDocs()
	batch := make([][]int32, len(docs))
	for i, id := range docs {
		batch[i] = t.tokens(false, id)
	}
	dw, err := enc.EncodeIDs(batch)
	if err != nil {
		return nil, err
	}
	type posting struct {
		doc int32
		w   float32
	}
	postings := make([][]posting, t.Model.Config.Vocab)
	var dnnz int
	for i, w := range dw {
		dnnz += len(w.IDs)
		for k, id := range w.IDs {
			postings[id] = append(postings[id], posting{int32(i), w.Values[k]})
		}
	}
	qb := make([][]int32, len(t.Data.Dev))
	for i, q := range t.Data.Dev {
		qb[i] = t.tokens(true, q)
	}
	qw, err := enc.EncodeIDs(qb)
	if err != nil {
		return nil, err
	}
	run := eval.Run{}
	qrels := eval.Qrels{}
	acc := make([]float64, len(docs))
	var qnnz int
	for i, q := range t.Data.Dev {
		qrels[q] = t.Data.Qrels[q]
		clear(acc)
		qnnz += len(qw[i].IDs)
		for k, id := range qw[i].IDs {
			for _, p := range postings[id] {
				acc[p.doc] += float64(qw[i].Values[k]) * float64(p.w)
			}
		}
		var res []eval.Result
		for d, s := range acc {
			if s > 0 {
				res = append(res, eval.Result{DocID: docs[d], Score: s})
			}
		}
		eval.SortResults(res)
		if len(res) > 100 {
			res = res[:100]
		}
		run[q] = res
	}
	rep, err := eval.EvaluateWith(qrels, run, []string{devMetricNDCG, devMetricMRR}, eval.Options{Complete: true})
	if err != nil {
		return nil, err
	}
	out := map[string]float64{devMetricNDCG: rep.Mean[devMetricNDCG], devMetricMRR: rep.Mean[devMetricMRR],
		"q_nnz": float64(qnnz) / float64(len(qw)), "d_nnz": float64(dnnz) / float64(len(dw))}
	return out, nil
}

// evalDocs returns the documents of the dev evaluation: all, or the dev
// queries' relevant documents plus seeded random others up to EvalDocs.
func (t *Trainer) evalDocs() []string {
	all := t.Data.DocIDs
	n := t.Cfg.EvalDocs
	if n <= 0 || n >= len(all) {
		return all
	}
	in := map[string]bool{}
	var out []string
	for _, q := range t.Data.Dev {
		for _, d := range t.Data.relevant(q) {
			if !in[d] {
				in[d] = true
				out = append(out, d)
			}
		}
	}
	rng := rand.New(rand.NewPCG(t.Cfg.Seed, 0xe7a1))
	for _, i := range rng.Perm(len(all)) {
		if len(out) >= n {
			break
		}
		if d := all[i]; !in[d] {
			in[d] = true
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out
}

// Run trains until Steps or early stopping. Under Cfg.Out it writes
// LogFile (appended to when resuming), BestDir (the model with the best
// dev metric; the last model when there is no dev split) and LastDir (the
// resumable checkpoint: model, optimizer and trainer state, written every
// SaveEvery steps and at the end). onStep, when not nil, is called after
// every step with its log line.
func (t *Trainer) Run(onStep func(StepLog)) error {
	cfg := &t.Cfg
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(cfg.Out, LogFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	hasDev := len(t.Data.Dev) > 0
	for t.state.Step < cfg.Steps {
		lg, err := t.TrainStep()
		if err != nil {
			return fmt.Errorf("step %d: %w", t.state.Step+1, err)
		}
		s := t.state.Step
		stop := false
		if hasDev && ((cfg.EvalEvery > 0 && s%cfg.EvalEvery == 0) || s == cfg.Steps) {
			if lg.Dev, err = t.Evaluate(); err != nil {
				return fmt.Errorf("step %d: dev evaluation: %w", s, err)
			}
			if v := lg.Dev[cfg.EvalMetric]; t.state.BestStep < 0 || v > t.state.Best {
				t.state.Best, t.state.BestStep, t.state.Bad = v, s, 0
				if err := t.Model.Save(filepath.Join(cfg.Out, BestDir), t.Vocab); err != nil {
					return err
				}
			} else {
				t.state.Bad++
				stop = cfg.Patience > 0 && t.state.Bad >= cfg.Patience
			}
		}
		if err := enc.Encode(lg); err != nil {
			return err
		}
		if onStep != nil {
			onStep(lg)
		}
		if stop || s == cfg.Steps || (cfg.SaveEvery > 0 && s%cfg.SaveEvery == 0) {
			if err := t.SaveCheckpoint(filepath.Join(cfg.Out, LastDir)); err != nil {
				return err
			}
		}
		if stop {
			break
		}
	}
	if !hasDev {
		return t.Model.Save(filepath.Join(cfg.Out, BestDir), t.Vocab)
	}
	return nil
}

// Best returns the best dev metric value and its step (step -1 before
// any evaluation).
func (t *Trainer) Best() (float64, int) { return t.state.Best, t.state.BestStep }

// SaveCheckpoint writes a resumable checkpoint: the model in Hugging Face
// layout, the optimizer state and the trainer state.
func (t *Trainer) SaveCheckpoint(dir string) error {
	if err := t.Model.Save(dir, t.Vocab); err != nil {
		return err
	}
	if err := t.Opt.Save(dir); err != nil {
		return err
	}
	b, err := json.MarshalIndent(t.state, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, RunStateFile), append(b, '\n'), 0o644)
}

// Resume restores a checkpoint written by SaveCheckpoint: weights,
// optimizer moments and step, controller, best metric and patience. The
// model must have the checkpoint's shape. Since batches are a function of
// (seed, step), the run continues as if it had never stopped.
func (t *Trainer) Resume(dir string) error {
	saved, err := Load(dir)
	if err != nil {
		return err
	}
	if saved.Config != t.Model.Config {
		return fmt.Errorf("%s: checkpoint config %+v differs from the model's %+v", dir, saved.Config, t.Model.Config)
	}
	for i, p := range saved.Params() {
		copy(t.Model.Params()[i].W, p.W)
	}
	if err := t.Opt.Load(dir); err != nil {
		return err
	}
	sp := filepath.Join(dir, RunStateFile)
	b, err := os.ReadFile(sp)
	if err != nil {
		return err
	}
	st := runState{}
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("%s: %w", sp, err)
	}
	if st.Step != t.Opt.Steps() {
		return fmt.Errorf("%s: step %d but the optimizer is at step %d", sp, st.Step, t.Opt.Steps())
	}
	if (st.Controller != nil) != (t.Ctrl != nil) {
		return fmt.Errorf("%s: the checkpoint was trained %s a target document length", sp,
			map[bool]string{true: "with", false: "without"}[st.Controller != nil])
	}
	// The schedule and lambdas of this run's configuration apply; the
	// controller's learned lambda_d and running average carry over.
	t.Opt.Schedule = t.Cfg.Schedule
	if t.Ctrl != nil {
		t.Ctrl.Lambda, t.Ctrl.Avg, t.Ctrl.Seen = st.Controller.Lambda, st.Controller.Avg, st.Controller.Seen
	}
	st.Controller = t.Ctrl
	t.state = st
	return nil
}

// ReadLog reads a training log written by Run.
func ReadLog(r io.Reader) ([]StepLog, error) {
	dec := json.NewDecoder(r)
	var out []StepLog
	for {
		var l StepLog
		if err := dec.Decode(&l); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return out, fmt.Errorf("training log entry %d: %w", len(out)+1, err)
		}
		out = append(out, l)
	}
}
