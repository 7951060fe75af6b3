package search

import (
	"errors"
	"fmt"
	"time"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/sparse"
)

// Choosing Seismic's summary mass on real queries. A block's summary keeps
// its largest per-term maxima up to a fraction of their sum (the mass);
// Seismic skips a block whose summary scores below the heap factor x the
// k-th score, so a summary that keeps too little of the mass under-states
// the block and its documents are missed. How much is too little depends on
// the vectors: on synthetic SPLADE++-like collections 0.4 keeps recall@10
// near 0.99, on SciFact encoded by the embedded model it gave 0.91-0.95
// (BENCHMARKS.md, "Seismic"), and queries made from the documents
// themselves do not show the gap (they gave 0.978 where the real queries
// gave 0.914). So the mass is measured on a sample of the user's real
// queries: for each mass tried the summaries are computed again (most of
// a build's time: 43 s, against 51 s for a build, at 1M synthetic
// documents; the forward index, kept postings and blocks are reused and
// shared), and the smallest mass that reaches the target recall is kept
// (a larger one is slower and larger on disk).

// SeismicTrial is one summary mass tried by TuneSeismicMass.
type SeismicTrial struct {
	Mass   float64
	Recall float64       // mean recall@k against exact search
	Mean   time.Duration // mean latency per query
	Bytes  int64         // the structure's size (seismic.bin)
}

// DefaultTuneMasses are the summary masses TuneSeismicMass tries, in order.
var DefaultTuneMasses = []float64{0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1}

// TuneSeismicMass searches queries with opt (Mode Seismic; K, QueryCut and
// HeapFactor as they will be used) on the Seismic structures that base
// (built for ix) gives with each of masses in turn (increasing), measures
// recall@K against exact search (block-max) and the mean latency, and
// returns the first structure whose recall reaches target (hits counted
// by external id, so documents on a passage index), with every
// trial. When none does it returns the structure of highest recall (the
// largest mass on ties) and an error wrapping ErrTargetMissed, so that the
// caller can keep it and say so. ix serves each structure in turn, and the
// chosen one at the end. threads as for SearchBatch; trial, when not nil,
// is called after each mass.
func TuneSeismicMass(ix *index.Index, base *index.Seismic, queries []sparse.Record, opt Options, target float64, masses []float64, threads int, trial func(SeismicTrial)) (*index.Seismic, []SeismicTrial, error) {
	if opt.Mode != Seismic {
		return nil, nil, fmt.Errorf("tuning the summary mass needs Mode Seismic, got %v", opt.Mode)
	}
	if len(queries) == 0 {
		return nil, nil, fmt.Errorf("tuning the summary mass needs queries")
	}
	if !(target > 0 && target <= 1) {
		return nil, nil, fmt.Errorf("target recall must be in (0, 1], got %v", target)
	}
	if len(masses) == 0 {
		masses = DefaultTuneMasses
	}
	for i, m := range masses {
		if !(m > 0 && m <= 1) || (i > 0 && m <= masses[i-1]) {
			return nil, nil, fmt.Errorf("summary masses must increase within (0, 1], got %v", masses)
		}
	}
	s := New(ix)
	exact := opt
	exact.Mode = BlockMax
	want, err := s.SearchBatch(queries, exact, threads, nil)
	if err != nil {
		return nil, nil, err
	}
	var trials []SeismicTrial
	var best *index.Seismic
	prev := base
	bestRecall := -1.0
	for _, m := range masses {
		// each structure from the one before, not from base, so that the
		// summaries of a mass left behind can be collected (they take
		// gigabytes at 8.8M documents): at most two sets are held, and
		// the best one when it is older
		sm := prev
		if m != prev.Options.SummaryMass {
			if sm, err = prev.WithSummaryMass(m, nil); err != nil {
				return nil, trials, err
			}
		}
		prev = sm
		if err := ix.ServeSeismic(sm); err != nil {
			return nil, trials, err
		}
		tm, err := s.Measure(queries, opt, threads)
		if err != nil {
			return nil, trials, err
		}
		tr := SeismicTrial{Mass: m, Recall: RecallByID(tm.Hits, want), Mean: tm.Mean(), Bytes: sm.Stats().Bytes}
		trials = append(trials, tr)
		if trial != nil {
			trial(tr)
		}
		if tr.Recall >= bestRecall {
			best, bestRecall = sm, tr.Recall
		}
		if tr.Recall >= target {
			return sm, trials, nil
		}
	}
	if err := ix.ServeSeismic(best); err != nil {
		return nil, trials, err
	}
	return best, trials, fmt.Errorf("%w: recall@%d %.4f at best (summary mass %g), target %g",
		ErrTargetMissed, opt.K, bestRecall, best.Options.SummaryMass, target)
}

// ErrTargetMissed: no summary mass reached the target recall.
var ErrTargetMissed = errors.New("no summary mass reaches the target recall")
