package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/internal/cputime"
	"github.com/splade-go/splade/search"
	"github.com/splade-go/splade/sparse"
	"github.com/splade-go/splade/synth"
)

func init() {
	register(command{name: "bench-search", summary: "benchmark indexing and every query processor on a synthetic collection (or your index and queries)", run: runBenchSearch})
}

const benchSearchHelp = `Builds an index of a synthetic SPLADE++-like collection (package synth) and
reports build time, peak resident memory, index size in bits per posting, then
for each query processor and thread count the mean and p99 latency per query,
throughput, the speed-up over exhaustive term-at-a-time, and recall@k against
the exhaustive (exact) results. Latencies are wall-clock per query, measured
inside the workers. With --modes seismic the index gets a Seismic structure
(--seismic-lambda, --seismic-block, --seismic-mass), reused with --reuse when
its options match.

With --index and --query-vectors it measures an index of yours (splade index)
with your queries (vector JSONL, splade encode --query) instead: the same
table, recall@k against exhaustive search on that index; --modes seismic needs
the index's Seismic structure (splade index --seismic), or any --seismic-*
option to build one in memory for the run (the index is left unchanged): a way
to try Seismic's options, such as --seismic-mass, on your own data.

Examples:
  splade bench-search --docs 100000 --queries 500
  splade bench-search --docs 1000000 --queries 300 --threads 1,2 --alphas 0.9,0.8 --query-cuts 1,0.5,0.3
  splade bench-search --docs 1000000 --dir /tmp/idx1m --reuse --threads 1 --modes approx
  splade bench-search --docs 1000000 --dir /tmp/idx1m --reuse --modes seismic --heap-factors 0.8,0.9 --query-cuts 0.85,0.7
  splade bench-search --docs 100000 --quantize f16 --reorder=false --dir /tmp/idx
  splade bench-search --index idx --query-vectors queries.jsonl --modes blockmax,approx,seismic --threads 1
  splade bench-search --index idx --query-vectors queries.jsonl --modes seismic --seismic-mass 0.6 --query-cuts 0.7`

func runBenchSearch(args []string) error {
	fs := newFlags("bench-search", "[flags]", benchSearchHelp)
	docs := fs.Int("docs", 100_000, "synthetic documents")
	nq := fs.Int("queries", 500, "synthetic queries")
	seed := fs.Int64("seed", 1, "collection seed")
	k := fs.Int("k", 10, "documents per query (recall@k)")
	threadsS := fs.String("threads", "1,2", "comma-separated thread counts")
	alphasS := fs.String("alphas", "0.9,0.8", "comma-separated alpha values for the approx mode")
	cutsS := fs.String("query-cuts", "1,0.5", "comma-separated query-cut values for the approx mode (crossed with --alphas)")
	seisLambda := fs.Int("seismic-lambda", index.DefaultSeismicOptions.Lambda, "seismic mode: postings kept per term (0 = index.AutoLambda of --docs)")
	seisBlock := fs.Int("seismic-block", index.DefaultSeismicOptions.BlockSize, "seismic mode: documents per block")
	seisMass := fs.Float64("seismic-mass", index.DefaultSeismicOptions.SummaryMass, "seismic mode: fraction of a block summary's mass kept")
	seisCluster := fs.Bool("seismic-cluster", index.DefaultSeismicOptions.Cluster, "seismic mode: blocks cut from clusters of similar documents")
	seisNbs := fs.Int("seismic-neighbors", 0, "seismic mode: a graph of this many neighbours per document (0: none; a synthetic index's structure is rewritten with it, an --index's changed in memory only when a --seismic-* option is given)")
	nbsS := fs.String("neighbors", "0", "seismic mode, with a graph: comma-separated neighbour counts scored per best document (0: all, -1: none; crossed with --heap-factors and --query-cuts)")
	hfsS := fs.String("heap-factors", fmt.Sprint(search.DefaultHeapFactor), "seismic mode: comma-separated heap factors (crossed with --query-cuts)")
	fwdFinish := fs.Bool("forward-finish", false, "exact block-max finishes batches through the Seismic forward index when the index has one (search.ForwardFinish; measured beside blockmax(no forward))")
	modesS := fs.String("modes", "maxscore,blockmax,approx", "modes to measure besides exhaustive (always measured: it is the reference); seismic builds the Seismic structure in the index directory, or reuses it with --reuse")
	maxRanges := fs.Int("max-ranges", 0, "approx mode: range budget per query (0 = none)")
	firstBatch := fs.Int("first-batch", search.FirstBatch, "block-max: ranges in the first batch scored (search.FirstBatch)")
	batchGrowth := fs.Int("batch-growth", search.BatchGrowth, "block-max: factor by which each batch grows (search.BatchGrowth)")
	maxBatch := fs.Int("max-batch", search.MaxBatch, "block-max: largest batch of ranges (search.MaxBatch)")
	entropy := fs.Bool("entropy", false, "also measure the index's order-0 entropy per stream (index.Entropy: reads every block, ~15 s at 1M)")
	switchFrac := fs.Float64("switch-fraction", search.SwitchFraction, "block-max: hand a query over to exhaustive search once the ranges left to visit exceed this fraction of all ranges (search.SwitchFraction; above 1: never)")
	stageTerms := fs.Int("stage-terms", search.StageTerms, "block-max: terms scored between two checks of a batch's ranges against the threshold (search.StageTerms; 0 = only before the dense terms)")
	viewDensity := fs.Float64("view-density", index.ViewDensity, "block-max: fraction of the ranges a sparse term must occur in for its range maxima to be laid out densely in memory (index.ViewDensity; above 1: none)")
	warmViews := fs.Bool("warm-views", false, "block-max: build the bound views before measuring (index.WarmBoundViews, as splade serve does at start) instead of during the first queries")
	viewBudget := fs.Float64("view-budget", index.ViewBudget, "block-max: memory of those dense maxima, at most this fraction of postings.bin's size (index.ViewBudget)")
	rounds := fs.Int("rounds", 3, "measurement rounds (all modes each round, alternating); medians are reported")
	reuse := fs.Bool("reuse", false, "open the index already in --dir (built by an earlier run with the same --docs and --seed) instead of building one")
	quant := fs.String("quantize", "u8", "u8, f16 or f32")
	impactLevels := fs.Int("impact-levels", index.MaxImpactLevels, "u8 impacts: levels 1..N, N from 1 to 255")
	exactRecall := fs.Bool("exact-recall", false, "synthetic collections: also report recall@k of exhaustive search on the index against exact float dot products over the generator's vectors (what quantization costs; every document is generated again)")
	reorder := fs.Bool("reorder", true, "renumber documents by graph bisection so that similar ones are neighbours")
	memMB := fs.Int64("memory", index.DefaultMemoryBudget>>20, "build memory budget for postings, MiB")
	rangeSize := fs.Int("range-size", index.DefaultRangeSize, "documents per block-max range")
	dir := fs.String("dir", "", "index directory (default: a temporary one, removed afterwards)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the query runs to this file (go tool pprof)")
	realPath := fs.String("real-queries", "", "also run these pre-encoded queries (id<TAB>tokens repeated weight x scale times, .gz ok), terms mapped onto the synthetic vocabulary by popularity rank")
	realScale := fs.Float64("real-scale", 1000, "weight scale of --real-queries (1000 for the MS MARCO SPLADE++ EnsembleDistil files)")
	realN := fs.Int("real-n", 1000, "run the first N of --real-queries (all of them rank the tokens)")
	ownIndex := fs.String("index", "", "measure this index (splade index) with --query-vectors instead of a synthetic collection")
	queryVecs := fs.String("query-vectors", "", "with --index: the queries, as vector JSONL (splade encode --query; .gz ok)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if (*ownIndex == "") != (*queryVecs == "") {
		return usagef("--index and --query-vectors go together")
	}
	if *ownIndex != "" && (*dir != "" || *reuse || *realPath != "") {
		return usagef("--index measures an index of yours: --dir, --reuse and --real-queries are for synthetic collections")
	}
	if *docs < 1 || *nq < 1 || *k < 1 || *rounds < 1 {
		return usagef("--docs, --queries, --k and --rounds must be >= 1")
	}
	q, err := index.ParseQuantization(*quant)
	if err != nil {
		return usagef("%v", err)
	}
	il, err := impactLevelsOption(q, *impactLevels)
	if err != nil {
		return err
	}
	threads, err := parseInts(*threadsS)
	if err != nil {
		return usagef("--threads: %v", err)
	}
	alphas, err := parseFloats(*alphasS, 1)
	if err != nil {
		return usagef("--alphas: %v", err)
	}
	cuts, err := parseFloats(*cutsS, 1)
	if err != nil {
		return usagef("--query-cuts: %v", err)
	}
	hfs, err := parseFloats(*hfsS, 100)
	if err != nil {
		return usagef("--heap-factors: %v", err)
	}
	modes := map[search.Mode]bool{}
	for _, f := range strings.Split(*modesS, ",") {
		m, err := search.ParseMode(strings.TrimSpace(f))
		if err != nil {
			return usagef("--modes: %v", err)
		}
		modes[m] = true
	}
	if *maxRanges < 0 {
		return usagef("--max-ranges must be >= 0")
	}
	if *firstBatch < 1 || *batchGrowth < 1 || *maxBatch < *firstBatch {
		return usagef("--first-batch and --batch-growth must be >= 1, --max-batch >= --first-batch")
	}
	if *stageTerms < 0 {
		return usagef("--stage-terms must be >= 0")
	}
	if !(*switchFrac > 0) {
		return usagef("--switch-fraction must be > 0")
	}
	if !(*viewDensity >= 0) || !(*viewBudget >= 0) {
		return usagef("--view-density and --view-budget must be >= 0")
	}
	index.ViewDensity, index.ViewBudget = *viewDensity, *viewBudget
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	var ix *index.Index
	var sets []querySet
	if *ownIndex != "" {
		if ix, err = index.Open(*ownIndex); err != nil {
			return err
		}
		defer ix.Close()
		qs, err := readQueries(*queryVecs)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "collection\tindex %s: %d docs, %d terms\n", *ownIndex, ix.NumDocs(), ix.NumTerms())
		sets = []querySet{{name: filepath.Base(*queryVecs), queries: qs}}
	} else {
		var closeIx func()
		ix, sets, closeIx, err = syntheticBench(out, syntheticOptions{docs: *docs, queries: *nq, seed: *seed, dir: *dir, reuse: *reuse,
			build:    index.BuildOptions{Quantize: q, MemoryBudget: *memMB << 20, Reorder: *reorder, RangeSize: *rangeSize, ImpactLevels: il},
			realPath: *realPath, realScale: *realScale, realN: *realN})
		if err != nil {
			return err
		}
		defer closeIx()
	}
	if *entropy {
		e, err := ix.Entropy()
		if err != nil {
			return err
		}
		bpp := func(b float64) float64 { return b / float64(e.Postings) }
		fmt.Fprintf(out, "entropy_bits_per_posting\t%.2f\t(order-0 bound of this layout, one table per term: gaps %.2f  maxima %.2f  counts %.2f  docs %.2f  impacts %.2f; stored as is: dense-maxima %.2f  directory %.2f)\n",
			bpp(e.Total()), bpp(e.Gaps), bpp(e.Maxima), bpp(e.Counts), bpp(e.Docs), bpp(e.Impacts), bpp(e.Dense), bpp(e.Directory))
		out.Flush()
	}
	if *warmViews {
		t0 := time.Now()
		st, err := ix.WarmBoundViews(context.Background())
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "bound_views_warm_seconds\t%.2f\t(%d terms, %d refused (budget or unreadable blocks), %.1f MiB)\n", time.Since(t0).Seconds(), st.Terms, st.Refused, float64(st.Bytes)/(1<<20))
		out.Flush()
	}
	s := search.New(ix)
	if *exactRecall {
		if err := printExactRecall(out, s, sets, *k); err != nil {
			return err
		}
	}
	search.FirstBatch, search.BatchGrowth, search.MaxBatch = *firstBatch, *batchGrowth, *maxBatch
	search.StageTerms = *stageTerms
	search.SwitchFraction = *switchFrac
	search.ForwardFinish = *fwdFinish
	runs := []benchRun{{name: "exhaustive", opt: search.Options{K: *k, Mode: search.Exhaustive}}}
	for _, m := range []search.Mode{search.MaxScore, search.BlockMax} {
		if modes[m] {
			runs = append(runs, benchRun{name: m.String(), opt: search.Options{K: *k, Mode: m}})
		}
	}
	if modes[search.Approx] {
		for _, a := range alphas {
			for _, c := range cuts {
				runs = append(runs, benchRun{name: fmt.Sprintf("approx(a=%g,cut=%g)", a, c), opt: search.Options{K: *k, Mode: search.Approx, Alpha: a, QueryCut: c, MaxRanges: *maxRanges}})
			}
		}
	}
	if modes[search.Seismic] {
		so := index.SeismicOptions{Lambda: *seisLambda, BlockSize: *seisBlock, SummaryMass: *seisMass, Cluster: *seisCluster}.Resolve(ix.NumDocs())
		optionsGiven := false
		fs.Visit(func(f *flag.Flag) { optionsGiven = optionsGiven || strings.HasPrefix(f.Name, "seismic-") })
		t0 := time.Now()
		sm, verb, saved, err := benchSeismic(ix, so, *ownIndex, optionsGiven, *reuse)
		if err != nil {
			return err
		}
		if nb := *seisNbs; nb != sm.NeighborsPerDoc() && (*ownIndex == "" || optionsGiven) {
			if nb < 0 || nb > index.MaxNeighbors {
				return usagef("--seismic-neighbors must be in 0..%d", index.MaxNeighbors)
			}
			t1 := time.Now()
			if nb > 0 {
				sm, err = addNeighbors(ix, sm, nb)
			} else {
				sm, err = sm.WithNeighbors(nil, 0)
			}
			if err == nil {
				err = ix.ServeSeismic(sm)
			}
			if err != nil {
				return err
			}
			saved = false
			fmt.Fprintf(out, "seismic_neighbors_seconds\t%.2f\t(%d per document, one Seismic search each, cut %g, %d threads)\n", time.Since(t1).Seconds(), nb, neighborCut, runtime.GOMAXPROCS(0))
		}
		// a synthetic index keeps its structure, graph included, for
		// --reuse (written once); yours is never written
		if !saved && *ownIndex == "" {
			if err := ix.SaveSeismic(sm); err != nil {
				return err
			}
		}
		o, st := sm.Options, sm.Stats()
		fmt.Fprintf(out, "seismic_seconds\t%.2f\t(%s: lambda %d, block %d, mass %g, cluster %v, neighbors %d)\n", time.Since(t0).Seconds(), verb, o.Lambda, o.BlockSize, o.SummaryMass, o.Cluster, st.Neighbors)
		fmt.Fprintf(out, "seismic_bytes\t%d\t(%.2f bits per posting of the collection; %d blocks, %d kept postings, %.1f summary entries per block)\n",
			st.Bytes, 8*float64(st.Bytes)/float64(st.ForwardEntries), st.Blocks, st.KeptPostings, float64(st.SummaryEntries)/float64(max(st.Blocks, 1)))
		nbs := []int{0}
		if st.Neighbors > 0 {
			if nbs, err = parseCounts(*nbsS); err != nil {
				return usagef("--neighbors: %v", err)
			}
		}
		for _, nb := range nbs {
			for _, h := range hfs {
				for _, c := range cuts {
					name := fmt.Sprintf("seismic(hf=%g,cut=%g)", h, c)
					if st.Neighbors > 0 {
						used := st.Neighbors // what the search scores: 0 means all
						if nb != 0 {
							used = max(0, min(nb, used))
						}
						name = fmt.Sprintf("seismic(hf=%g,cut=%g,nb=%d)", h, c, used)
					}
					runs = append(runs, benchRun{name: name, opt: search.Options{K: *k, Mode: search.Seismic, HeapFactor: h, QueryCut: c, Neighbors: nb}})
				}
			}
		}
	}
	// With --forward-finish and a forward index, exact block-max is
	// measured with and without finishing through it (reading it first, so
	// that no query pays that).
	if modes[search.BlockMax] && *fwdFinish && ix.ForwardIndex() != nil {
		for i, r := range runs {
			if r.opt.Mode == search.BlockMax {
				runs = slices.Insert(runs, i+1, benchRun{name: "blockmax(no forward)", opt: r.opt, noForward: true})
				break
			}
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Fprintf(out, "\n%d round(s), modes alternating; per mode the median over rounds of the mean and p99 per query;\n"+
		"wall = wall-clock latency, cpu = CPU time of the query's thread (its own work on a shared machine);\n"+
		"speed-ups are exhaustive's median over the mode's, for wall and cpu time\n", *rounds)
	for _, set := range sets {
		fmt.Fprintf(out, "\nqueries: %s, %d\n", set.name, len(set.queries))
		if err := measureModes(out, s, set.queries, runs, threads, *rounds, *k); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "bound_views_mib\t%.1f\t(block-max's dense range maxima and counts of frequent terms, in memory: --view-density)\n", float64(ix.ViewBytes())/(1<<20))
	fmt.Fprintf(out, "peak_rss_mib_end\t%s\n", peakRSS())
	return nil
}

type querySet struct {
	name    string
	queries []sparse.Record
	gen     *synth.Generator // the synthetic collection's; nil for --index
}

// printExactRecall prints, per synthetic query set, recall@k of exhaustive
// search on the index against the exact ranking by float dot products
// (synth.Generator.TopK): what the index's quantized impacts cost.
func printExactRecall(out *bufio.Writer, s *search.Searcher, sets []querySet, k int) error {
	for _, set := range sets {
		if set.gen == nil {
			continue
		}
		t0 := time.Now()
		vecs := make([]sparse.Vector, len(set.queries))
		for i, q := range set.queries {
			vecs[i] = q.Vector
		}
		exact, err := set.gen.TopK(vecs, k, runtime.NumCPU())
		if err != nil {
			return err
		}
		got, err := s.SearchBatch(set.queries, search.Options{K: k, Mode: search.Exhaustive}, runtime.NumCPU(), nil)
		if err != nil {
			return err
		}
		want := make([][]search.Hit, len(exact))
		for i, top := range exact {
			for _, d := range top {
				want[i] = append(want[i], search.Hit{ID: synth.DocID(d.Doc)})
			}
		}
		fmt.Fprintf(out, "exact_recall@%d\t%.4f\t(%s queries: exhaustive search on this index against exact float32 dot products; %.1f s)\n",
			k, search.RecallByID(got, want), set.name, time.Since(t0).Seconds())
		out.Flush()
	}
	return nil
}

type benchRun struct {
	name      string
	opt       search.Options
	noForward bool // search.ForwardFinish off for this run
}

// measureModes prints one table row per mode and thread count: medians
// over rounds in which every mode runs once, in turn.
func measureModes(out *bufio.Writer, s *search.Searcher, queries []sparse.Record, runs []benchRun, threads []int, rounds, k int) error {
	fmt.Fprintf(out, "%-26s %3s %9s %9s %9s %9s %8s %8s %8s %9s\n", "mode", "thr", "wall_ms", "wall_p99", "cpu_ms", "cpu_p99", "qps", "x_wall", "x_cpu", fmt.Sprintf("recall@%d", k))
	for _, th := range threads {
		type agg struct {
			wall, wallP99, cpu, cpuP99, qps []float64
			recall                          float64
		}
		res := make([]agg, len(runs))
		var ref [][]search.Hit
		var resolve []float64 // per Measure call, us per query
		for round := 0; round < rounds; round++ {
			for i, r := range runs {
				saved := search.ForwardFinish
				search.ForwardFinish = saved && !r.noForward
				tm, err := s.Measure(queries, r.opt, th)
				search.ForwardFinish = saved
				if err != nil {
					return err
				}
				if i == 0 && round == 0 {
					ref = tm.Hits
				}
				resolve = append(resolve, float64(tm.Resolve)/1e3/float64(max(1, len(queries))))
				a := &res[i]
				a.wall = append(a.wall, ms(tm.Mean()))
				a.wallP99 = append(a.wallP99, ms(tm.Percentile(0.99)))
				a.cpu = append(a.cpu, ms(tm.CPUMean()))
				a.cpuP99 = append(a.cpuP99, ms(tm.CPUPercentile(0.99)))
				a.qps = append(a.qps, tm.QPS())
				a.recall = search.Recall(tm.Hits, ref)
			}
		}
		for i, r := range runs {
			a := &res[i]
			fmt.Fprintf(out, "%-26s %3d %9.3f %9.3f %9.3f %9.3f %8.1f %8.2f %8.2f %9.4f\n", r.name, th,
				median(a.wall), median(a.wallP99), median(a.cpu), median(a.cpuP99), median(a.qps),
				median(res[0].wall)/median(a.wall), median(res[0].cpu)/median(a.cpu), a.recall)
		}
		fmt.Fprintf(out, "resolve_us\t%.2f\t(median per query: term strings to ids, before the timed runs of every mode; not in the times above)\n", median(resolve))
		out.Flush()
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// peakRSS reads the process's peak resident set (VmHWM) on Linux.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				if kb, err := strconv.ParseFloat(f[0], 64); err == nil {
					return fmt.Sprintf("%.0f", kb/1024)
				}
			}
		}
	}
	return "n/a"
}

// parseCounts parses comma-separated neighbour counts, each >= -1.
func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < -1 {
			return nil, fmt.Errorf("%q is not an integer >= -1", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseFloats parses comma-separated numbers, each in (0, hi].
func parseFloats(s string, hi float64) ([]float64, error) {
	var out []float64
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for _, f := range strings.Split(s, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(x > 0 && x <= hi) {
			return nil, fmt.Errorf("%q is not in (0, %g]", f, hi)
		}
		out = append(out, x)
	}
	return out, nil
}

// benchSeismic returns the Seismic structure bench-search measures, how it
// came to be, and whether it is the index's seismic.bin as it stands. An
// index of the user's (own) is measured with its own structure, or with
// options given, one built in memory for the run: it is never written to.
// A synthetic index reuses its structure with reuse when the options
// match, and gets one built in memory otherwise, for the caller to write
// once it has its graph.
func benchSeismic(ix *index.Index, so index.SeismicOptions, own string, optionsGiven, reuse bool) (*index.Seismic, string, bool, error) {
	switch {
	case own != "" && optionsGiven:
		sm, err := ix.UseSeismic(so, seismicBar())
		return sm, "built in memory, not written", false, err
	case own != "":
		if !ix.HasSeismic() {
			return nil, "", false, fmt.Errorf("--modes seismic: %s has no Seismic structure (splade index --output %s --seismic adds one; --seismic-* options build one in memory for the run)", own, own)
		}
		sm, err := ix.Seismic()
		return sm, "reused", true, err
	case reuse && ix.HasSeismic():
		sm, err := ix.Seismic()
		if err != nil || sm.Options == so {
			return sm, "reused", true, err
		}
	}
	sm, err := ix.UseSeismic(so, seismicBar())
	return sm, "built", false, err
}

// syntheticOptions describe the synthetic collection of bench-search.
type syntheticOptions struct {
	docs, queries, realN int
	seed                 int64
	dir                  string // "" for a temporary one
	reuse                bool
	build                index.BuildOptions
	realPath             string
	realScale            float64
}

// syntheticBench builds (or with reuse opens) the index of a synthetic
// collection, printing the build's figures, and returns it with the query
// sets to run: the synthetic queries, and the real ones of realPath with
// their terms mapped onto the synthetic vocabulary. closeIx closes the
// index and removes a temporary directory.
func syntheticBench(out *bufio.Writer, o syntheticOptions) (ix *index.Index, sets []querySet, closeIx func(), err error) {
	// (err is named so that the deferred cleanup sees every error return)
	if o.reuse && o.dir == "" {
		return nil, nil, nil, usagef("--reuse needs --dir")
	}
	cleanup := func() {}
	if o.dir == "" {
		tmp, err := os.MkdirTemp("", "splade-bench-")
		if err != nil {
			return nil, nil, nil, err
		}
		cleanup = func() { os.RemoveAll(tmp) }
		o.dir = filepath.Join(tmp, "idx")
	}
	defer func() {
		if err != nil {
			cleanup()
		}
	}()
	g := synth.New(synth.Options{Docs: o.docs, Queries: o.queries, Seed: o.seed})
	fmt.Fprintf(out, "collection\tsynth docs=%d queries=%d seed=%d\n", o.docs, o.queries, o.seed)
	if !o.reuse {
		b, err := index.NewBuilder(o.dir, o.build)
		if err != nil {
			return nil, nil, nil, err
		}
		bar := newProgress(int64(o.docs), "indexing")
		cpu0 := cputime.Seconds()
		var genTime time.Duration
		for i := 0; i < o.docs; i++ {
			t0 := time.Now()
			rec := g.Doc(i)
			genTime += time.Since(t0)
			if err := b.Add(rec.ID, rec.Vector); err != nil {
				b.Abort()
				return nil, nil, nil, err
			}
			bar.Add(1)
		}
		st, err := b.Finish()
		bar.Finish()
		if err != nil {
			return nil, nil, nil, err
		}
		fmt.Fprintf(out, "build_seconds\t%.2f\t(wall, excluding %.2fs generating vectors)\n", (st.BuildTime - genTime).Seconds(), genTime.Seconds())
		fmt.Fprintf(out, "build_cpu_seconds\t%.2f\t(user+system of all threads, vector generation included)\n", cputime.Seconds()-cpu0)
		fmt.Fprintf(out, "peak_rss_mib\t%s\n", peakRSS())
		fmt.Fprintf(out, "postings\t%d\nterms\t%d\n", st.Postings, st.Terms)
		fmt.Fprintf(out, "pairs\t%d\t(%.3f per posting)\ndense_terms\t%d\n", st.Pairs, float64(st.Pairs)/float64(st.Postings), st.DenseTerms)
		imp := st.Quantization.String()
		if st.Quantization == index.QuantU8 && st.ImpactLevels != index.MaxImpactLevels {
			imp = fmt.Sprintf("u8 (%d levels)", st.ImpactLevels)
		}
		fmt.Fprintf(out, "bits_per_posting\t%.2f\t(everything every query mode reads: postings.bin + blocks.bin, %s impacts)\n", st.BitsPerPost, imp)
		bpp := func(n int64) float64 { return 8 * float64(n) / float64(st.Postings) }
		z := st.Sizes
		fmt.Fprintf(out, "  by stream\tgaps %.2f  maxima %.2f  dense-maxima %.2f  counts %.2f  docs %.2f  impacts %.2f  directory %.2f\n",
			bpp(z.Gaps), bpp(z.Maxima), bpp(z.Dense), bpp(z.Counts), bpp(z.Docs), bpp(z.Impacts), bpp(z.Directory))
		fmt.Fprintf(out, "total_bits_per_posting\t%.2f\t(all files of the index, term strings and document ids included)\n", st.TotalBitsPerPost)
	}
	out.Flush()

	if ix, err = index.Open(o.dir); err != nil {
		return nil, nil, nil, err
	}
	if ix.NumDocs() != o.docs {
		ix.Close()
		return nil, nil, nil, fmt.Errorf("--reuse: the index in %s has %d documents, not --docs %d", o.dir, ix.NumDocs(), o.docs)
	}
	sets = []querySet{{name: "synthetic", queries: make([]sparse.Record, o.queries), gen: g}}
	for i := range sets[0].queries {
		sets[0].queries[i] = g.Query(i)
	}
	if o.realPath != "" {
		recs, rerr := synth.ReadEncodings(o.realPath, o.realScale, 0)
		if err = rerr; err != nil {
			ix.Close()
			return nil, nil, nil, err
		}
		vecs := make([]sparse.Vector, len(recs))
		for i, r := range recs {
			vecs[i] = r.Vector
		}
		vecs = g.MapByRank(vecs)
		n := min(o.realN, len(recs))
		qs := make([]sparse.Record, n)
		for i := range qs {
			qs[i] = sparse.Record{ID: recs[i].ID, Vector: vecs[i]}
		}
		sets = append(sets, querySet{name: fmt.Sprintf("real (%s, first %d of %d, terms mapped by rank)", filepath.Base(o.realPath), n, len(recs)), queries: qs, gen: g})
	}
	return ix, sets, func() { ix.Close(); cleanup() }, nil
}
