package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/splade-go/splade/corpus"
	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/search"
	"github.com/splade-go/splade/sparse"
)

func init() {
	register(command{name: "index", summary: "build an inverted index from document vectors", run: runIndex})
}

const indexHelp = `Builds a SPLADE inverted index from document vectors (JSON lines
{"id", "vector": {term: weight}}, .gz ok), or with --model from the texts
themselves (BEIR JSONL or id<TAB>text TSV, .gz ok), encoded on the way with
the model's document encoder (as splade encode does, without writing the
vectors out); the index then records the model's vocabulary fingerprint, and
splade search --model and splade serve --model refuse a model of another
vocabulary.

Impacts are quantized (u8 with one global scale by default; f16 or f32 keep
more precision; --impact-levels below 255 keeps fewer u8 levels, for a
smaller index with coarser scores: about a bit per posting less for each
halving, e.g. 14.3 -> 11.6 bits at 1M synthetic documents with 40 levels).
Each term's postings are grouped by ranges of --range-size
documents, each range with the term's largest impact there (what block-max
prunes with), and bit-packed in blocks (docs/index-format.md). The new index
is written as a new generation in DIR and committed atomically: an index
already in DIR keeps working until the build completes. Build memory is
bounded by --memory (postings beyond it are spilled to sorted runs and
merged).

Records with a "doc" field (splade encode --chunk writes them) are passages
of that document: the index keeps the passage -> document map, and searches
return documents scored by their best passage (MaxP).

With --seismic the index also gets a Seismic structure (seismic.bin: a
forward index and, per term, blocks of its largest postings with summaries)
for splade search --mode seismic, the fastest approximate mode on large
collections (its forward index can also serve exact block-max: splade search
--forward-finish). Without --input, --seismic adds one to the index in --output. It needs u8
impacts; it takes several times the index's space (107 bits per posting at 1M
documents, against 14 for the index). Its recall depends on how much of each
block's weight its summary keeps (--seismic-mass), and how much is enough
depends on the vectors: with --seismic-tune QUERIES the mass is chosen on a
sample of real queries, from --seismic-mass up, the first whose recall@10
against exact search reaches --seismic-recall (the summaries are computed
again for each mass tried: each try takes about as long as the first
build).

Examples:
  splade index --input docs.jsonl.gz --output idx
  splade index --model splade-v3 --input corpus.jsonl.gz --output idx --threads 2
  splade index --model default --input corpus.jsonl --output idx --chunk 254 --stride 128
  splade index --input docs.jsonl.gz --output idx --seismic
  splade index --output idx --seismic --seismic-lambda 2000
  splade index --output idx --seismic --seismic-cluster
  splade index --output idx --seismic --seismic-neighbors 10
  splade index --output idx --seismic --seismic-tune qvectors.jsonl --seismic-recall 0.95
  splade index --output idx --seismic --seismic-tune queries.tsv --model default
  splade index --input docs.jsonl --output idx --quantize f16 --fingerprint "$FP"
  splade index --input docs.jsonl.gz --output idx --impact-levels 63
  splade index --input docs.jsonl.gz --output idx --memory 4096 --reorder`

func runIndex(args []string) error {
	fs := newFlags("index", "--input FILE --output DIR [flags]", indexHelp)
	input := fs.String("input", "", "document vectors (JSONL, .gz ok); with --model, texts (BEIR JSONL or id<TAB>text TSV, .gz ok)")
	output := fs.String("output", "", "index directory (created if needed)")
	quant := fs.String("quantize", "u8", "impact storage: u8, f16 or f32")
	impactLevels := fs.Int("impact-levels", index.MaxImpactLevels, "u8 impacts: levels 1..N, N from 1 to 255 (fewer: smaller index, coarser scores)")
	fp := fs.String("fingerprint", "", "model/vocabulary fingerprint recorded in the index; searches declaring another are refused")
	memMB := fs.Int64("memory", index.DefaultMemoryBudget>>20, "postings buffered in memory before spilling a run, in MiB")
	rangeSize := fs.Int("range-size", index.DefaultRangeSize, "documents per block-max range")
	seismic := fs.Bool("seismic", false, "also build the Seismic structure for --mode seismic (without --input: add it to the index in --output)")
	seisLambda := fs.Int("seismic-lambda", index.DefaultSeismicOptions.Lambda, "Seismic: postings kept per term (those of largest impact); 0 = 700 x (N/1M)^(2/3), at least 40 (151 at 100k, 2,984 at 8.8M)")
	seisBlock := fs.Int("seismic-block", index.DefaultSeismicOptions.BlockSize, "Seismic: documents per block")
	seisMass := fs.Float64("seismic-mass", index.DefaultSeismicOptions.SummaryMass, "Seismic: fraction of a block summary's weight mass kept, in (0, 1]; more: higher recall, slower, larger (on SciFact with the embedded model recall@10 0.91-0.95 at 0.4, 0.96-0.99 at 0.6; or let --seismic-tune choose it on your queries)")
	seisTune := fs.String("seismic-tune", "", "Seismic: choose the summary mass on these queries (vector JSONL, .gz ok; with --model, texts encoded by its query encoder): from --seismic-mass up, the first mass whose recall@10 against exact search, with search's default Seismic settings, reaches --seismic-recall")
	seisRecall := fs.Float64("seismic-recall", 0.95, "Seismic: the recall@10 --seismic-tune aims at, in (0, 1]")
	seisTuneN := fs.Int("seismic-tune-queries", 500, "Seismic: how many of --seismic-tune's queries to use (the first ones)")
	seisNbs := fs.Int("seismic-neighbors", 0, fmt.Sprintf("Seismic: also store a graph of this many nearest neighbours per document (0 to %d; 0: none), found by one Seismic search per document (7 s at 100k documents, 5.3 minutes at 1M, on 2 cores): search then scores the neighbours of its best documents, more recall for the time", index.MaxNeighbors))
	seisCluster := fs.Bool("seismic-cluster", index.DefaultSeismicOptions.Cluster, "Seismic: cut blocks from clusters of similar documents, as the paper does (2.3x the build time at 1M documents, for no consistent speed-up there)")
	reorder := fs.Bool("reorder", true, "renumber documents by graph bisection so that similar ones are neighbours (smaller index, faster block-max search)")
	ef := addEncoderFlags(fs, "encode the texts of --input with this SPLADE model (Hugging Face layout; DIR/document if present; \"default\": the embedded one)", true, nil)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	so := index.SeismicOptions{Lambda: *seisLambda, BlockSize: *seisBlock, SummaryMass: *seisMass, Cluster: *seisCluster}
	if *seisNbs < 0 || *seisNbs > index.MaxNeighbors {
		return usagef("--seismic-neighbors must be in 0..%d", index.MaxNeighbors)
	}
	if *seisNbs > 0 && !*seismic {
		return usagef("--seismic-neighbors builds a graph into the Seismic structure: give --seismic")
	}
	if *seisTune != "" && !*seismic {
		return usagef("--seismic-tune chooses the Seismic structure's summary mass: give --seismic")
	}
	if *output == "" || (*input == "" && !*seismic) {
		return usagef("--input and --output are required (see splade index -h)")
	}
	tune := seismicTuning{path: *seisTune, target: *seisRecall, n: *seisTuneN}
	if *seisTune != "" {
		if !(*seisRecall > 0 && *seisRecall <= 1) || *seisTuneN < 1 {
			return usagef("--seismic-recall must be in (0, 1] and --seismic-tune-queries >= 1")
		}
		if *ef.model != "" {
			tune.ef = ef
		}
	} else if set := setFlags(fs); set["seismic-recall"] || set["seismic-tune-queries"] {
		return usagef("--seismic-recall and --seismic-tune-queries go with --seismic-tune")
	}
	if *input == "" {
		if *ef.model != "" && *seisTune == "" {
			return usagef("--model encodes the texts of --input: give --input")
		}
		return addSeismic(*output, so, tune, *seisNbs)
	}
	q, err := index.ParseQuantization(*quant)
	if err != nil {
		return usagef("%v", err)
	}
	if *memMB <= 0 || *rangeSize <= 0 {
		return usagef("--memory and --range-size must be positive")
	}
	il, err := impactLevelsOption(q, *impactLevels)
	if err != nil {
		return err
	}
	opt := index.BuildOptions{Quantize: q, Fingerprint: *fp, MemoryBudget: *memMB << 20, RangeSize: *rangeSize, Reorder: *reorder, ImpactLevels: il}
	var st index.Stats
	if *ef.model != "" {
		st, err = indexTexts(*input, *output, opt, ef)
	} else {
		bar := newProgress(-1, "indexing")
		st, err = index.BuildFromFile(*input, *output, opt, func(n int) { bar.Set(n) })
		bar.Finish()
	}
	if err != nil {
		return err
	}
	printBuildStats(os.Stdout, st)
	if *seismic {
		return addSeismic(*output, so, tune, *seisNbs)
	}
	return nil
}

// indexTexts builds an index of the texts in path, encoded with the
// document encoder of ef as they are read (a batch encoded while the next
// is read and tokenized); the index records the encoder's vocabulary
// fingerprint.
func indexTexts(path, dir string, opt index.BuildOptions, ef *encoderFlags) (index.Stats, error) {
	enc, tok, ch, err := ef.load(false)
	if err != nil {
		return index.Stats{}, err
	}
	if opt.Fingerprint != "" && opt.Fingerprint != tok.Fingerprint() {
		return index.Stats{}, usagef("--fingerprint %q differs from the model's %q (with --model the index records the model's)", opt.Fingerprint, tok.Fingerprint())
	}
	opt.Fingerprint = tok.Fingerprint()
	in, err := corpus.Open(path)
	if err != nil {
		return index.Stats{}, err
	}
	defer in.Close()
	b, err := index.NewBuilder(dir, opt)
	if err != nil {
		return index.Stats{}, err
	}
	n, err := encodeStream(in, enc, tok, *ef.batchTokens, ch, func(rec sparse.Record, line int) error {
		if err := b.AddRecord(rec); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		return nil
	})
	if err == nil && n.texts == 0 {
		err = fmt.Errorf("%s: no documents", path)
	}
	if err != nil {
		b.Abort()
		return index.Stats{}, err
	}
	return b.Finish()
}

// seismicTuning is what --seismic-tune asks for: the queries (vectors, or
// texts for the query encoder of ef), the target recall@10 and how many
// queries to use.
type seismicTuning struct {
	path   string
	ef     *encoderFlags // nil: path holds vectors
	target float64
	n      int
}

// addSeismic adds a Seismic structure to the index in dir, its summary
// mass chosen on queries when tune names them, with a graph of neighbors
// neighbours per document when neighbors > 0.
func addSeismic(dir string, o index.SeismicOptions, tune seismicTuning, neighbors int) error {
	ix, err := index.Open(dir)
	if err != nil {
		return err
	}
	defer ix.Close()
	t0 := time.Now()
	var qs []sparse.Record
	if tune.path != "" {
		if qs, err = tuningQueries(ix, tune); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "building the Seismic structure of %d documents...\n", ix.NumDocs())
	// built (and tuned, and given its graph) in memory, then written once
	var sm *index.Seismic
	if tune.path == "" {
		sm, err = ix.UseSeismic(o, seismicBar())
	} else {
		sm, err = tuneSeismic(ix, o, qs, tune.target)
	}
	if err != nil {
		return err
	}
	if neighbors > 0 {
		t1 := time.Now()
		if sm, err = addNeighbors(ix, sm, neighbors); err != nil {
			return err
		}
		fmt.Printf("seismic_neighbors_seconds\t%.2f\n", time.Since(t1).Seconds())
	}
	if err := ix.SaveSeismic(sm); err != nil {
		return err
	}
	st := sm.Stats()
	fmt.Printf("seismic_options\tlambda %d, block %d, mass %g, cluster %v, neighbors %d\n", sm.Options.Lambda, sm.Options.BlockSize, sm.Options.SummaryMass, sm.Options.Cluster, st.Neighbors)
	fmt.Printf("seismic_blocks\t%d\nseismic_kept_postings\t%d\nseismic_summary_entries\t%d\nseismic_bytes\t%d\nseismic_seconds\t%.2f\n",
		st.Blocks, st.KeptPostings, st.SummaryEntries, st.Bytes, time.Since(t0).Seconds())
	return nil
}

// neighborCut is the query cut of the Seismic searches that find a
// document's neighbours (the document as the query: ~130 terms, of which
// the heaviest carrying this fraction of the weight guide the search).
// The first neighbours are easy to find: at 100k synthetic documents,
// graphs found at cuts 0.2, 0.3 and 0.5 gave search the same recall
// (0.959-0.960), 0.3 in 7.0 s against 10.7 s for 0.5 (BENCHMARKS.md).
const neighborCut = 0.3

// addNeighbors returns sm, which ix serves, with a graph of k neighbours
// per document, each found by Seismic search with the document as query.
func addNeighbors(ix *index.Index, sm *index.Seismic, k int) (*index.Seismic, error) {
	if err := ix.ServeSeismic(sm); err != nil {
		return nil, err
	}
	bar := newProgress(int64(ix.NumDocs()), "seismic: neighbours")
	nbs, err := search.New(ix).BuildNeighbors(k, search.Options{Mode: search.Seismic, QueryCut: neighborCut}, 0, func() { bar.Add(1) })
	bar.Finish()
	if err != nil {
		return nil, err
	}
	return sm.WithNeighbors(nbs, k)
}

// tuningQueries reads the first tune.n queries of tune.path, encoding them
// with the query encoder when tune.ef is set (refused when the index
// records another vocabulary).
func tuningQueries(ix *index.Index, tune seismicTuning) ([]sparse.Record, error) {
	var qs []sparse.Record
	var err error
	if tune.ef != nil {
		var qfp string
		if qs, qfp, err = encodeQueries(tune.path, tune.ef); err != nil {
			return nil, err
		}
		if ix.Meta.Fingerprint != "" && qfp != ix.Meta.Fingerprint {
			return nil, fmt.Errorf("--seismic-tune: the model's vocabulary fingerprint %q differs from the index's %q", qfp, ix.Meta.Fingerprint)
		}
	} else if qs, err = readQueries(tune.path); err != nil {
		return nil, err
	}
	return qs[:min(len(qs), tune.n)], nil
}

// tuneSeismic builds the Seismic structure with o in memory, then
// computes its summaries again with larger masses until the recall@10 of
// qs reaches target (search.TuneSeismicMass), and returns the chosen one
// (the caller writes it). When no mass reaches it, the structure of best
// recall is returned and a warning says so.
func tuneSeismic(ix *index.Index, o index.SeismicOptions, qs []sparse.Record, target float64) (*index.Seismic, error) {
	base, err := ix.UseSeismic(o, seismicBar())
	if err != nil {
		return nil, err
	}
	masses := []float64{o.SummaryMass}
	for _, m := range search.DefaultTuneMasses {
		if m > o.SummaryMass {
			masses = append(masses, m)
		}
	}
	fmt.Fprintf(os.Stderr, "choosing the summary mass on %d queries (recall@10 >= %g)...\n", len(qs), target)
	opt := search.Options{K: 10, Mode: search.Seismic}
	sm, _, err := search.TuneSeismicMass(ix, base, qs, opt, target, masses, 0, func(tr search.SeismicTrial) {
		fmt.Printf("seismic_tune\tmass %g\trecall@10 %.4f\tms_per_query %.3f\tbytes %d\n", tr.Mass, tr.Recall, float64(tr.Mean.Microseconds())/1000, tr.Bytes)
	})
	if errors.Is(err, search.ErrTargetMissed) {
		slog.Warn("kept the summary mass of best recall; to reach the target raise --seismic-lambda, or search with a lower --heap-factor", "reason", err)
	} else if err != nil {
		return nil, err
	}
	return sm, nil
}

func printBuildStats(w *os.File, st index.Stats) {
	fmt.Fprintf(w, "index\t%s\n", st.Dir)
	if st.Documents > 0 {
		fmt.Fprintf(w, "documents\t%d\npassages\t%d\n", st.Documents, st.Docs)
	}
	fmt.Fprintf(w, "docs\t%d\nterms\t%d\npostings\t%d\n", st.Docs, st.Terms, st.Postings)
	fmt.Fprintf(w, "quantization\t%s\n", st.Quantization)
	if st.Quantization == index.QuantU8 {
		fmt.Fprintf(w, "impact_levels\t%d\n", st.ImpactLevels)
	}
	fmt.Fprintf(w, "bits_per_posting\t%.2f\t(everything search reads: postings, range maxima, block directory)\n", st.BitsPerPost)
	fmt.Fprintf(w, "total_bits_per_posting\t%.2f\t(all files, term and document ids included)\n", st.TotalBitsPerPost)
	fmt.Fprintf(w, "postings_bytes\t%d\ntotal_bytes\t%d\n", st.PostingBytes, st.TotalBytes)
	fmt.Fprintf(w, "spilled_runs\t%d\n", st.Runs)
	fmt.Fprintf(w, "build_seconds\t%.2f\n", st.BuildTime.Seconds())
}

// seismicBar returns a progress report for a Seismic build: a bar per
// stage, the last one finished by the last report of its stage.
func seismicBar() index.SeismicProgress {
	var bar *progressbar.ProgressBar
	stage := ""
	return func(st string, done, total int) {
		if st != stage {
			if bar != nil {
				bar.Finish()
			}
			stage, bar = st, newProgress(int64(total), "seismic: "+st)
		}
		bar.Set(done)
		if done == total {
			bar.Finish()
		}
	}
}

// impactLevelsOption checks --impact-levels against --quantize and
// returns BuildOptions.ImpactLevels: the levels for u8, 0 for f16/f32
// (where only the default is accepted).
func impactLevelsOption(q index.Quantization, levels int) (int, error) {
	switch {
	case levels < 1 || levels > index.MaxImpactLevels:
		return 0, usagef("--impact-levels must be in 1..%d, got %d", index.MaxImpactLevels, levels)
	case q == index.QuantU8:
		return levels, nil
	case levels != index.MaxImpactLevels:
		return 0, usagef("--impact-levels applies to --quantize u8 only")
	}
	return 0, nil
}
