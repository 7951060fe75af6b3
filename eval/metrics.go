package eval

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// DefaultMetrics are the measures reported for SPLADE on MS MARCO and BEIR.
var DefaultMetrics = []string{"ndcg_cut_10", "mrr_10", "recall_100", "recall_1000", "map"}

// Report holds per-query and mean values of the requested metrics.
type Report struct {
	Metrics    []string                      // canonical names, in request order
	PerQuery   map[string]map[string]float64 // qid -> metric -> value
	Mean       map[string]float64            // metric -> mean over evaluated queries
	NumQueries int                           // queries evaluated (the divisor of Mean)

	// RunOnly counts run queries without judgments (ignored); QrelsOnly
	// counts judged queries missing from the run (skipped, or scored 0 with
	// Options.Complete).
	RunOnly, QrelsOnly int
}

// Queries returns the evaluated query ids in trec_eval's order (strcmp).
func (r *Report) Queries() []string {
	ids := make([]string, 0, len(r.PerQuery))
	for id := range r.PerQuery {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Options change which queries are evaluated.
type Options struct {
	// Complete evaluates every query in the qrels, treating queries absent
	// from the run as empty rankings (trec_eval -c).
	Complete bool
}

// Evaluate scores run against qrels with the named metrics (trec_eval
// names: ndcg_cut_K, recall_K, P_K, map, map_cut_K, recip_rank, mrr_K,
// recip_rank_cut_K; "ndcg_cut.10" is accepted for "ndcg_cut_10").
func Evaluate(q Qrels, r Run, metrics []string) (*Report, error) {
	return EvaluateWith(q, r, metrics, Options{})
}

// EvaluateWith is Evaluate with options.
func EvaluateWith(q Qrels, r Run, metrics []string, opt Options) (*Report, error) {
	names, err := CanonicalMetrics(metrics)
	if err != nil {
		return nil, err
	}
	ms := make([]metric, len(names))
	for i, name := range names {
		ms[i], _ = parseMetric(name) // canonical names parse
	}
	rep := &Report{PerQuery: make(map[string]map[string]float64), Mean: make(map[string]float64)}
	for _, m := range ms {
		rep.Metrics = append(rep.Metrics, m.name)
	}
	for qid := range r {
		if _, ok := q[qid]; !ok {
			rep.RunOnly++
		}
	}
	qids := make([]string, 0, len(q))
	for qid := range q {
		qids = append(qids, qid)
	}
	sort.Strings(qids)
	for _, qid := range qids {
		results, ok := r[qid]
		if !ok {
			rep.QrelsOnly++
			if !opt.Complete {
				continue
			}
		}
		j := judge(q[qid], results)
		vals := make(map[string]float64, len(ms))
		for _, m := range ms {
			vals[m.name] = m.compute(j)
		}
		rep.PerQuery[qid] = vals
	}
	rep.NumQueries = len(rep.PerQuery)
	if rep.NumQueries == 0 {
		return nil, errors.New("eval: no queries with both results and relevance judgments (are the query ids of run and qrels the same?)")
	}
	// Sum in query order so the mean does not depend on map iteration.
	for _, qid := range rep.Queries() {
		for _, m := range ms {
			rep.Mean[m.name] += rep.PerQuery[qid][m.name]
		}
	}
	for _, m := range ms {
		rep.Mean[m.name] /= float64(rep.NumQueries)
	}
	return rep, nil
}

// CanonicalMetrics checks metric names and returns them in canonical form
// ("ndcg_cut.10" -> "ndcg_cut_10"), so that a command can reject a bad
// name before reading any file.
func CanonicalMetrics(names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	seen := make(map[string]bool)
	for _, name := range names {
		m, err := parseMetric(name)
		if err != nil {
			return nil, err
		}
		if seen[m.name] {
			return nil, fmt.Errorf("eval: metric %q requested twice", m.name)
		}
		seen[m.name] = true
		out = append(out, m.name)
	}
	if len(out) == 0 {
		return nil, errors.New("eval: no metrics requested")
	}
	return out, nil
}

// judged is one query's ranking reduced to what the metrics need.
type judged struct {
	rels   []int // relevance of the retrieved documents in rank order (0 if unjudged)
	numRel int   // judged documents with relevance >= 1
	gains  []int // relevance levels > 0 of all judged documents, descending (the ideal ranking)
}

// judge orders results as trec_eval does and looks up their relevance.
func judge(qrels map[string]int, results []Result) judged {
	ranked := slices.Clone(results)
	slices.SortFunc(ranked, compareTREC)
	j := judged{rels: make([]int, len(ranked))}
	for i, res := range ranked {
		j.rels[i] = qrels[res.DocID]
	}
	for _, rel := range qrels {
		if rel >= 1 {
			j.numRel++
		}
		if rel > 0 {
			j.gains = append(j.gains, rel)
		}
	}
	slices.SortFunc(j.gains, func(a, b int) int { return b - a })
	return j
}

// compareTREC is trec_eval's comp_sim_docno: scores compared as float32
// (trec_eval stores them so), higher first, ties by document id descending.
func compareTREC(a, b Result) int {
	sa, sb := float32(a.Score), float32(b.Score)
	switch {
	case sa > sb:
		return -1
	case sa < sb:
		return 1
	}
	return strings.Compare(b.DocID, a.DocID)
}

// SortResults orders results by decreasing score, breaking ties as
// trec_eval does, so that a written run means what it will be scored as.
func SortResults(results []Result) { slices.SortFunc(results, compareTREC) }

type metricKind int

const (
	ndcgCut metricKind = iota
	recallAt
	precisionAt
	mapAll
	mapCut
	recipRank
	recipRankCut
)

type metric struct {
	name string
	kind metricKind
	k    int // cutoff; 0 for none
}

func parseMetric(name string) (metric, error) {
	n := strings.ReplaceAll(strings.TrimSpace(name), ".", "_")
	switch n {
	case "map":
		return metric{name: n, kind: mapAll}, nil
	case "recip_rank", "mrr":
		return metric{name: "recip_rank", kind: recipRank}, nil
	}
	prefixes := []struct {
		prefix string
		kind   metricKind
	}{
		{"ndcg_cut_", ndcgCut},
		{"recall_", recallAt},
		{"P_", precisionAt},
		{"map_cut_", mapCut},
		{"recip_rank_cut_", recipRankCut},
		{"mrr_", recipRankCut},
	}
	for _, p := range prefixes {
		rest, ok := strings.CutPrefix(n, p.prefix)
		if !ok {
			continue
		}
		k, err := strconv.Atoi(rest)
		if err != nil || k <= 0 {
			return metric{}, fmt.Errorf("eval: metric %q: cutoff %q must be a positive integer", name, rest)
		}
		return metric{name: n, kind: p.kind, k: k}, nil
	}
	return metric{}, fmt.Errorf("eval: unknown metric %q (known: ndcg_cut_K, recall_K, P_K, map, map_cut_K, recip_rank, mrr_K)", name)
}

func (m metric) compute(j judged) float64 {
	switch m.kind {
	case ndcgCut:
		return ndcg(j, m.k)
	case recallAt:
		if j.numRel == 0 {
			return 0
		}
		return float64(relevantIn(j.rels, m.k)) / float64(j.numRel)
	case precisionAt:
		return float64(relevantIn(j.rels, m.k)) / float64(m.k)
	case mapAll:
		return averagePrecision(j, len(j.rels))
	case mapCut:
		return averagePrecision(j, m.k)
	case recipRank:
		return reciprocalRank(j.rels, len(j.rels))
	default: // recipRankCut
		return reciprocalRank(j.rels, m.k)
	}
}

// relevantIn counts relevant documents among the first k retrieved.
func relevantIn(rels []int, k int) int {
	n := 0
	for _, rel := range rels[:min(k, len(rels))] {
		if rel >= 1 {
			n++
		}
	}
	return n
}

// ndcg is trec_eval's ndcg_cut: gain = relevance level, discount
// log2(rank+1), normalised by the DCG of the judged documents sorted by
// level (the ideal ranking), both cut at k.
func ndcg(j judged, k int) float64 {
	var dcg, idcg float64
	for i, rel := range j.rels[:min(k, len(j.rels))] {
		if rel > 0 {
			dcg += float64(rel) / math.Log2(float64(i+2))
		}
	}
	for i, g := range j.gains[:min(k, len(j.gains))] {
		idcg += float64(g) / math.Log2(float64(i+2))
	}
	if idcg == 0 {
		return 0
	}
	return dcg / idcg
}

// averagePrecision sums precision at each relevant document within the
// first k and divides by all relevant documents (retrieved or not), as
// trec_eval's map and map_cut do.
func averagePrecision(j judged, k int) float64 {
	if j.numRel == 0 {
		return 0
	}
	var sum float64
	found := 0
	for i, rel := range j.rels[:min(k, len(j.rels))] {
		if rel >= 1 {
			found++
			sum += float64(found) / float64(i+1)
		}
	}
	return sum / float64(j.numRel)
}

// reciprocalRank is 1/rank of the first relevant document within the first
// k, 0 if there is none.
func reciprocalRank(rels []int, k int) float64 {
	for i, rel := range rels[:min(k, len(rels))] {
		if rel >= 1 {
			return 1 / float64(i+1)
		}
	}
	return 0
}

// WriteTREC prints the report as trec_eval does: `metric<TAB>qid<TAB>value`
// for each evaluated query when perQuery is set (queries in strcmp order),
// then `metric<TAB>all<TAB>value` for the means, values with 4 decimals.
func (r *Report) WriteTREC(w io.Writer, perQuery bool) error {
	bw := bufio.NewWriter(w)
	if perQuery {
		for _, qid := range r.Queries() {
			for _, m := range r.Metrics {
				fmt.Fprintf(bw, "%s\t%s\t%.4f\n", m, qid, r.PerQuery[qid][m])
			}
		}
	}
	for _, m := range r.Metrics {
		fmt.Fprintf(bw, "%s\tall\t%.4f\n", m, r.Mean[m])
	}
	return bw.Flush()
}
