package search

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/sparse"
)

// TestTuneSeismicMass: the masses are tried in increasing order until one
// reaches the target; each trial's recall is what searching with that
// structure gives; the index serves the chosen structure; a target no mass
// reaches returns the structure of highest recall with ErrTargetMissed;
// bad arguments are refused.
func TestTuneSeismicMass(t *testing.T) {
	docs := randomCorpus(4000, 1500, 6)
	ix := buildIndex(t, docs, index.BuildOptions{Reorder: true})
	base, err := index.BuildSeismic(ix, index.SeismicOptions{Lambda: 150, BlockSize: 16, SummaryMass: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(4, 4))
	var queries []sparse.Record
	for i := 0; i < 40; i++ {
		queries = append(queries, sparse.Record{ID: fmt.Sprint(i), Vector: randomVector(r, 1500, 20)})
	}
	opt := Options{K: 10, Mode: Seismic, QueryCut: 0.7, HeapFactor: 1.3}
	masses := []float64{0.1, 0.3, 0.6}
	s := New(ix)
	want, err := s.SearchBatch(queries, Options{K: 10, Mode: Exhaustive}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	// every mass, as the tuning measures it
	recallAt := map[float64]float64{}
	for _, m := range masses {
		sm, err := base.WithSummaryMass(m, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := ix.ServeSeismic(sm); err != nil {
			t.Fatal(err)
		}
		got, err := s.SearchBatch(queries, opt, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		recallAt[m] = Recall(got, want)
	}
	t.Logf("recall by mass: %v", recallAt)
	if !(recallAt[0.1] < recallAt[0.6] && recallAt[0.6] < 1) {
		t.Fatalf("recall %v: want more recall with more mass on this collection, and below 1", recallAt)
	}

	// a target between the smallest and the largest mass's recall
	target := recallAt[0.6]
	var seen []float64
	sm, trials, err := TuneSeismicMass(ix, base, queries, opt, target, masses, 2, func(tr SeismicTrial) { seen = append(seen, tr.Mass) })
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != len(seen) || len(trials) == 0 {
		t.Fatalf("%d trials, %d reported", len(trials), len(seen))
	}
	for i, tr := range trials {
		if tr.Mass != masses[i] || tr.Recall != recallAt[tr.Mass] || tr.Mean <= 0 || tr.Bytes <= 0 {
			t.Errorf("trial %d: %+v; want mass %g, recall %g", i, tr, masses[i], recallAt[masses[i]])
		}
		if last := i == len(trials)-1; (tr.Recall >= target) != last {
			t.Errorf("trial %d of %d: recall %g against target %g", i, len(trials), tr.Recall, target)
		}
	}
	if sm.Options.SummaryMass != trials[len(trials)-1].Mass {
		t.Errorf("chose mass %g, last trial %g", sm.Options.SummaryMass, trials[len(trials)-1].Mass)
	}
	if got, err := ix.Seismic(); err != nil || got != sm {
		t.Errorf("the index does not serve the chosen structure (%v)", err)
	}

	// a target no mass reaches
	{
		sm, trials, err = TuneSeismicMass(ix, base, queries, opt, 1, masses, 1, nil)
		if !errors.Is(err, ErrTargetMissed) || len(trials) != len(masses) {
			t.Fatalf("unreachable target: %v, %d trials", err, len(trials))
		}
		best := 0.0
		for _, tr := range trials {
			best = max(best, tr.Recall)
		}
		if sm == nil || recallAt[sm.Options.SummaryMass] != best {
			t.Errorf("unreachable target: kept %+v, want the best recall %g", sm, best)
		}
		if got, _ := ix.Seismic(); got != sm {
			t.Error("unreachable target: the index does not serve the kept structure")
		}
	}

	for _, tc := range []struct {
		name   string
		opt    Options
		q      []sparse.Record
		target float64
		masses []float64
	}{
		{"mode", Options{K: 10, Mode: BlockMax}, queries, 0.9, nil},
		{"no queries", opt, nil, 0.9, nil},
		{"target", opt, queries, 0, nil},
		{"target above 1", opt, queries, 1.5, nil},
		{"masses not increasing", opt, queries, 0.9, []float64{0.5, 0.4}},
		{"mass above 1", opt, queries, 0.9, []float64{0.5, 1.2}},
	} {
		if _, _, err := TuneSeismicMass(ix, base, tc.q, tc.opt, tc.target, tc.masses, 1, nil); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

// TestRecallByID: a document reached through another passage (another
// internal id, the same external id) counts for RecallByID, not for Recall;
// an empty reference counts as found.
func TestRecallByID(t *testing.T) {
	want := [][]Hit{{{Doc: 1, ID: "a"}, {Doc: 5, ID: "b"}}, {}}
	got := [][]Hit{{{Doc: 2, ID: "a"}, {Doc: 9, ID: "c"}}, {{Doc: 3, ID: "d"}}}
	if r := RecallByID(got, want); r != 0.75 {
		t.Errorf("RecallByID = %g, want 0.75", r)
	}
	if r := Recall(got, want); r != 0.5 {
		t.Errorf("Recall = %g, want 0.5", r)
	}
}
