package main

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/splade-go/splade/eval"
	"github.com/splade-go/splade/internal/defaultmodel"
	"github.com/splade-go/splade/tokenize"
	"github.com/splade-go/splade/train"
)

const trainHelp = `Trains a SPLADE encoder for ranking (Formal et al., SIGIR 2021): softmax
cross-entropy of s(q, d+) against the query's BM25 hard negative and every other
document of the batch, plus FLOPS or L1 sparsity regularization of queries
(--lambda-q) and documents (--lambda-d), both raised as lambda (t/T)^2 until
step T (--ramp-steps). Optional: MarginMSE distillation from teacher scores
(--teacher-scores qid<TAB>docid<TAB>score, weight --margin-weight), regression
of query vectors onto a published SPLADE model's query encodings
(--teacher-queries, weight --teacher-weight; the loss acts on the max-pooled
logits so that switched-off terms still learn), regression of queries and
documents onto BM25 written as vectors over the WordPiece vocabulary
(--lexical-weight: s sqrt(idf) x BM25's saturated term frequency, a lexical warm
start for models trained from scratch; --rank-weight 0 for that stage alone),
and --target-doc-nnz N, which steers lambda_d during training so that documents
end up near N non-zero terms.

Data: a BEIR corpus, queries and train qrels; negatives from BM25 computed on
the fly (--negatives bm25) or a file (qid<TAB>docid..., e.g. from "splade bm25
--negatives"); or MS MARCO style --triples (qid/pid ids or raw texts); or
both, the triples (e.g. from "splade pseudo-triples") then being extra
training items beside the judged queries, which alone make the dev split. A dev
split (--dev-fraction of the train queries) is evaluated every --eval-every
steps (nDCG@10, MRR@10, exact retrieval over the corpus or --eval-docs of it);
the best model is kept and training stops after --patience evaluations
without improvement.

Output (--output DIR): DIR/best (best dev model, Hugging Face layout: use it with
"splade encode --model DIR/best"), DIR/last (resumable checkpoint with the
optimizer state; continue with --resume DIR/last), DIR/train_log.jsonl (per
step: loss parts, lambda_q, lambda_d, avg query/doc non-zeros, lr, grad norm,
step time, dev metrics).

Examples:
  splade train --init runs/scifact-mlm \
      --corpus ../shared/data/beir/scifact/corpus.jsonl.gz \
      --queries ../shared/data/beir/scifact/queries.jsonl \
      --qrels ../shared/data/beir/scifact/qrels/train.tsv \
      --lambda-q 1e-3 --lambda-d 1e-3 --reg flops --ramp-steps 500 \
      --steps 2000 --batch 16 --lr 2e-4 --eval-every 200 --patience 4 \
      --output runs/scifact-splade
  splade train ... --target-doc-nnz 128 --output runs/len128
  splade train ... --resume runs/scifact-splade/last --steps 4000`

func init() {
	register(command{name: "train", summary: "train a SPLADE encoder for ranking", run: runTrain})
}

func runTrain(args []string) error {
	fs := newFlags("train", "--init DIR --corpus FILE --queries FILE (--qrels FILE | --triples FILE) --output DIR [flags]", trainHelp)
	initDir := fs.String("init", "", "starting checkpoint (e.g. from splade pretrain), Hugging Face layout with vocab.txt")
	corpusPath := fs.String("corpus", "", "documents: BEIR JSONL or id<TAB>text TSV (.gz ok)")
	queriesPath := fs.String("queries", "", "queries: BEIR JSONL or id<TAB>text TSV")
	qrelsPath := fs.String("qrels", "", "training judgments (BEIR or TREC qrels)")
	negatives := fs.String("negatives", "bm25", "hard negatives: bm25 (computed now) or a file qid<TAB>docid...")
	negDepth := fs.Int("neg-depth", 50, "draw each negative among the query's first N negatives")
	triplesPath := fs.String("triples", "", "MS MARCO style triples TSV (ids or texts), alone or beside --qrels")
	tripleShare := fs.Float64("triples-share", 0, "with --qrels and --triples: fraction of each batch drawn from the triples (0: in proportion to their numbers)")
	teacherScores := fs.String("teacher-scores", "", "teacher scores qid<TAB>docid<TAB>score for MarginMSE")
	teacherQueries := fs.String("teacher-queries", "", "teacher query encodings id<TAB>repeated wordpieces")
	teacherScale := fs.Float64("teacher-scale", 0, "repetitions per unit weight of --teacher-queries (0: from the file name)")
	rankWeight := fs.Float64("rank-weight", 1, "weight of the in-batch + hard-negative cross-entropy")
	marginWeight := fs.Float64("margin-weight", 0, "weight of MarginMSE (default 1 with --teacher-scores)")
	teacherWeight := fs.Float64("teacher-weight", 0, "weight of the teacher query regression (default 1 with --teacher-queries)")
	lexicalWeight := fs.Float64("lexical-weight", 0, "weight of the regression of query and document vectors onto BM25 vectors (a lexical warm start)")
	lexicalScale := fs.Float64("lexical-scale", 0.5, "scale s of the BM25 target vectors, s sqrt(idf) sat(tf)")
	lambdaQ := fs.Float64("lambda-q", 1e-3, "query regularization weight")
	lambdaD := fs.Float64("lambda-d", 1e-3, "document regularization weight (start value with --target-doc-nnz)")
	reg := fs.String("reg", "flops", "regularizer: flops or l1")
	rampSteps := fs.Int("ramp-steps", 0, "steps over which the lambdas rise quadratically")
	targetNNZ := fs.Float64("target-doc-nnz", 0, "steer lambda_d towards this average document length")
	steps := fs.Int("steps", 1000, "optimizer steps")
	batch := fs.Int("batch", 16, "queries per micro-batch")
	accum := fs.Int("accum", 1, "micro-batches per step (gradient accumulation)")
	lr := fs.Float64("lr", 2e-5, "peak learning rate")
	warmup := fs.Int("warmup", 0, "learning-rate warmup steps (default 6% of --steps)")
	queryLen := fs.Int("query-length", 32, "query tokens including [CLS] and [SEP]")
	docLen := fs.Int("doc-length", 256, "document tokens including [CLS] and [SEP]")
	devFraction := fs.Float64("dev-fraction", 0.1, "fraction of the training queries held out for dev evaluation")
	evalEvery := fs.Int("eval-every", 0, "dev evaluation period in steps (0: at the end)")
	evalDocs := fs.Int("eval-docs", 0, "evaluate on the dev relevant documents plus random others, N in all (0: whole corpus)")
	patience := fs.Int("patience", 0, "stop after N evaluations without improvement (0: never)")
	metric := fs.String("metric", "ndcg_cut_10", "dev metric selecting the best model: ndcg_cut_10 or mrr_10")
	saveEvery := fs.Int("save-every", 0, "write DIR/last every N steps (0: at the end)")
	resume := fs.String("resume", "", "continue from a checkpoint written to DIR/last")
	seed := fs.Uint64("seed", 1, "seed of the dev split and the batches")
	threads := fs.Int("threads", 0, "threads (0: all cores)")
	out := fs.String("output", "", "output directory")
	alias(fs, "output", "out")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *initDir == "" || *out == "":
		return usagef("--init and --output are required (see splade train -h)")
	case *triplesPath == "" && (*corpusPath == "" || *queriesPath == "" || *qrelsPath == ""):
		return usagef("give --corpus, --queries and --qrels, or --triples")
	case *reg != "flops" && *reg != "l1":
		return usagef("--reg %q: want flops or l1", *reg)
	case *steps <= 0 || *batch <= 0 || *accum <= 0 || *lr <= 0:
		return usagef("--steps, --batch, --accum and --lr must be positive")
	case *tripleShare < 0 || *tripleShare > 1:
		return usagef("--triples-share %g: want [0, 1]", *tripleShare)
	case *devFraction < 0 || *devFraction >= 1:
		return usagef("--dev-fraction %g: want [0, 1)", *devFraction)
	}
	dir, err := defaultmodel.Resolve(*initDir)
	if err != nil {
		return err
	}
	*initDir = dir
	m, err := train.Load(*initDir)
	if err != nil {
		return err
	}
	m.SetThreads(*threads)
	tok, err := tokenize.Load(*initDir)
	if err != nil {
		return err
	}
	vocab, err := tokenize.ReadVocab(filepath.Join(*initDir, tokenize.VocabFile))
	if err != nil {
		return err
	}

	data := &train.Data{}
	if *corpusPath != "" {
		if data.Docs, data.DocIDs, err = train.ReadTexts(*corpusPath); err != nil {
			return err
		}
	}
	if *queriesPath != "" {
		if data.Queries, _, err = train.ReadTexts(*queriesPath); err != nil {
			return err
		}
	}
	if *qrelsPath != "" {
		if data.Qrels, err = eval.ReadQrels(*qrelsPath); err != nil {
			return err
		}
	}
	if *teacherScores != "" {
		if data.TeacherScores, err = train.ReadTeacherScores(*teacherScores); err != nil {
			return err
		}
		if *marginWeight == 0 {
			*marginWeight = 1
		}
	}
	if *teacherQueries != "" {
		if data.TeacherQueries, err = train.ReadTeacherQueries(*teacherQueries, tok, *teacherScale); err != nil {
			return err
		}
		if *teacherWeight == 0 {
			*teacherWeight = 1
		}
	}
	// With qrels, the dev split comes from the judged queries and triples
	// are extra training items; with triples alone, from the triples'
	// queries.
	mixed := *qrelsPath != "" && *triplesPath != ""
	if *triplesPath != "" && !mixed {
		if err := data.ReadTriples(*triplesPath); err != nil {
			return err
		}
	}
	qids := data.TrainableQueries()
	if len(qids) == 0 {
		return fmt.Errorf("no query with text and a relevant document in the collection")
	}
	if data.Train, data.Dev, err = train.SplitDev(qids, *devFraction, *seed); err != nil {
		return err
	}
	if mixed {
		if err := data.ReadTriples(*triplesPath); err != nil {
			return err
		}
		data.TripleShare = *tripleShare
	}
	if len(data.DocIDs) == 0 && len(data.Dev) > 0 {
		return fmt.Errorf("dev evaluation needs documents")
	}
	if *triplesPath != "" && len(data.Dev) > 0 {
		// Triples of dev queries are held out with them.
		dev := map[string]bool{}
		for _, q := range data.Dev {
			dev[q] = true
		}
		var kept []train.Triple
		for _, t := range data.Triples {
			if !dev[t.Query] {
				kept = append(kept, t)
			}
		}
		if data.Triples = kept; len(kept) == 0 {
			return fmt.Errorf("no triple left for training after the dev split")
		}
	}
	if *triplesPath != "" && !mixed {
		data.Train = nil // the triples are the training items
	}
	if *qrelsPath != "" {
		if *negatives == "bm25" {
			bar := newProgress(int64(len(data.Train)), "bm25 negatives")
			data.Negatives, err = data.BM25Negatives(data.Train, *negDepth, *negDepth+50, func() { bar.Add(1) })
			bar.Finish()
		} else {
			data.Negatives, err = train.ReadNegatives(*negatives)
		}
		if err != nil {
			return err
		}
		var kept []string
		for _, q := range data.Train {
			if len(data.Negatives[q]) > 0 {
				kept = append(kept, q)
			}
		}
		if len(kept) < len(data.Train) {
			slog.Warn("training queries without a negative are left out", "queries", len(data.Train)-len(kept))
		}
		if data.Train = kept; len(kept) == 0 {
			return fmt.Errorf("no training query has a negative")
		}
	}
	if *warmup == 0 {
		*warmup = max(1, *steps*6/100)
	}
	cfg := train.Config{Steps: *steps, Batch: *batch, Accum: *accum,
		Schedule: train.Schedule{Peak: *lr, Warmup: *warmup, Total: *steps},
		LambdaQ:  *lambdaQ, LambdaD: *lambdaD, RegQ: train.Regularizer(*reg), RegD: train.Regularizer(*reg),
		RampSteps: *rampSteps, TargetDocNNZ: *targetNNZ,
		RankWeight: *rankWeight, MarginWeight: *marginWeight, TeacherWeight: *teacherWeight,
		LexicalWeight: *lexicalWeight, LexicalScale: *lexicalScale,
		NegDepth: *negDepth, QueryLen: *queryLen, DocLen: *docLen,
		EvalEvery: *evalEvery, Patience: *patience, EvalMetric: *metric, EvalDocs: *evalDocs,
		SaveEvery: *saveEvery, Seed: *seed, Out: *out}
	tr, err := train.NewTrainer(m, tok, vocab, data, cfg)
	if err != nil {
		return err
	}
	if *resume != "" {
		if err := tr.Resume(*resume); err != nil {
			return err
		}
		slog.Info("resumed", "dir", *resume, "step", tr.Step())
	}
	slog.Info("training", "train_queries", len(data.Train), "triples", len(data.Triples), "dev_queries", len(data.Dev),
		"docs", len(data.DocIDs), "params", m.NumParams(), "threads", m.Threads())
	bar := newProgress(int64(*steps), "train")
	bar.Add(tr.Step())
	err = tr.Run(func(l train.StepLog) {
		bar.Describe(fmt.Sprintf("train loss %.3f d_nnz %.0f", l.Loss, l.DocNNZ))
		bar.Add(1)
		if l.Dev != nil {
			slog.Info("dev", "step", l.Step, "ndcg@10", fmt.Sprintf("%.4f", l.Dev["ndcg_cut_10"]),
				"mrr@10", fmt.Sprintf("%.4f", l.Dev["mrr_10"]), "q_nnz", fmt.Sprintf("%.1f", l.Dev["q_nnz"]),
				"d_nnz", fmt.Sprintf("%.1f", l.Dev["d_nnz"]), "lambda_d", l.LambdaD)
		} else if l.Step%100 == 0 {
			slog.Info("step", "step", l.Step, "loss", fmt.Sprintf("%.4f", l.Loss), "rank", fmt.Sprintf("%.4f", l.Rank),
				"q_nnz", fmt.Sprintf("%.1f", l.QueryNNZ), "d_nnz", fmt.Sprintf("%.1f", l.DocNNZ), "sec", fmt.Sprintf("%.2f", l.Seconds))
		}
	})
	bar.Finish()
	if err != nil {
		return err
	}
	best, at := tr.Best()
	slog.Info("done", "steps", tr.Step(), "best_"+*metric, fmt.Sprintf("%.4f", best), "best_step", at,
		"model", filepath.Join(*out, train.BestDir))
	return nil
}
