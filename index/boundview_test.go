package index

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAddScaled checks the vector loop of range bounds against the
// portable one, at every length around its 16-range steps and with
// products that wrap 32 bits.
func TestAddScaled(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 80; n++ {
		for _, w := range []uint32{0, 1, 3, 1 << 20, 1<<32 - 1} {
			m := make([]byte, n)
			for i := range m {
				m[i] = byte(r.IntN(256))
			}
			got, want := make([]uint32, n+3), make([]uint32, n+3)
			for i := range got {
				got[i] = r.Uint32()
				want[i] = got[i]
			}
			addScaled(got, m, w)
			addScaledPortable(want, m, w)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("n %d w %d: entry %d = %d, want %d (vector path %v)", n, w, i, got[i], want[i], useAddScaledAVX2)
				}
			}
		}
	}
}

// TestBoundViewBudget checks that views stop at the budget and that the
// terms past it keep the sparse path with the same bounds.
func TestBoundViewBudget(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, randomDocs(3000, 500, 2), BuildOptions{})
	defer func(d, b float64) { ViewDensity, ViewBudget = d, b }(ViewDensity, ViewBudget)
	ViewDensity = 0
	ViewBudget = 1e9
	all, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	var pb PairBlock
	nr := all.NumRanges()
	ua, us := make([]uint32, nr), make([]uint32, nr)
	var sizes []int64 // of the views, by term
	var total int64
	for tid := uint32(0); tid < uint32(all.NumTerms()); tid++ {
		if all.Dense(tid) {
			continue
		}
		if err := all.AddBounds(tid, 7, ua, &pb, nil); err != nil {
			t.Fatal(err)
		}
		v := all.views[tid].Load()
		if v == nil {
			t.Fatalf("term %d: no view with ViewDensity 0", tid)
		}
		sizes = append(sizes, v.size(&all.terms[tid]))
		total += v.size(&all.terms[tid])
	}
	if len(sizes) < 4 {
		t.Fatalf("only %d sparse terms", len(sizes))
	}
	if all.viewBytes != total {
		t.Fatalf("views hold %d bytes, their sizes sum to %d", all.viewBytes, total)
	}
	// a budget of the first three views and half the smallest of the others
	three := sizes[0] + sizes[1] + sizes[2]
	ViewBudget = (float64(three) + float64(slices.Min(sizes[3:]))/2) / float64(len(all.postings))
	some, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer some.Close()
	for tid := uint32(0); tid < uint32(some.NumTerms()); tid++ {
		if some.Dense(tid) {
			continue
		}
		if err := some.AddBounds(tid, 7, us, &pb, nil); err != nil {
			t.Fatal(err)
		}
	}
	for r := range ua {
		if ua[r] != us[r] {
			t.Fatalf("range %d: bound %d with every view, %d with three", r, ua[r], us[r])
		}
	}
	if some.viewBytes != three {
		t.Fatalf("views hold %d bytes under a budget of three, want %d", some.viewBytes, three)
	}
}

// TestBoundViewConcurrent has goroutines build and read the views of one
// index at once (go test -race checks the publication), each getting the
// bounds and range scores of an index without views.
func TestBoundViewConcurrent(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, randomDocs(2000, 300, 5), BuildOptions{Reorder: true})
	defer func(d, b float64) { ViewDensity, ViewBudget = d, b }(ViewDensity, ViewBudget)
	ViewDensity = 2
	plain, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	ViewDensity, ViewBudget = 0, 1e9
	viewed, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer viewed.Close()
	nr, R := plain.NumRanges(), plain.RangeSize()
	ranges := make([]uint32, 0, nr)
	for r := 0; r < nr; r += 3 {
		ranges = append(ranges, uint32(r))
	}
	run := func(ix *Index) ([]uint32, []float64, error) {
		var pb PairBlock
		ub := make([]uint32, nr)
		acc := make([]float64, len(ranges)*R)
		for tid := uint32(0); tid < uint32(ix.NumTerms()); tid++ {
			if err := ix.AddBounds(tid, 5, ub, &pb, nil); err != nil {
				return nil, nil, err
			}
			if err := ix.ScoreRanges(tid, 0.5, ranges, acc, &pb, nil); err != nil {
				return nil, nil, err
			}
		}
		return ub, acc, nil
	}
	wantUB, wantAcc, err := run(plain)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 5)
	go func() { // warming meanwhile builds the views the readers do not
		_, err := viewed.WarmBoundViews(context.Background())
		errs <- err
	}()
	for g := 0; g < 4; g++ {
		go func() {
			ub, acc, err := run(viewed)
			if err == nil && (!slices.Equal(ub, wantUB) || !slices.Equal(acc, wantAcc)) {
				err = fmt.Errorf("bounds or scores differ from the index without views")
			}
			errs <- err
		}()
	}
	for g := 0; g < 5; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if viewed.ViewBytes() == 0 {
		t.Fatal("no views built")
	}
}

// TestWarmBoundViews checks that warming builds every view a query would,
// keeps the terms with the most pairs when the budget is short, and stops
// when its context is done.
func TestWarmBoundViews(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, randomDocs(3000, 500, 8), BuildOptions{Reorder: true})
	defer func(d, b float64) { ViewDensity, ViewBudget = d, b }(ViewDensity, ViewBudget)
	ViewDensity, ViewBudget = 0, 1e9
	viewed := func(ix *Index) []uint32 {
		var ts []uint32
		for tid := range ix.views {
			if ix.views[tid].Load().orNil() != nil {
				ts = append(ts, uint32(tid))
			}
		}
		return ts
	}
	all, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	st, err := all.WarmBoundViews(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var order []*termInfo // every term with postings, most pairs first
	for i := range all.terms {
		if all.terms[i].pairs > 0 {
			order = append(order, &all.terms[i])
		}
	}
	slices.SortFunc(order, func(a, b *termInfo) int { return cmp.Or(cmp.Compare(b.pairs, a.pairs), cmp.Compare(a.id, b.id)) })
	if st.Terms != len(order) || st.Refused != 0 || st.Bytes != all.ViewBytes() || st.Bytes == 0 {
		t.Fatalf("warming with ViewDensity 0: %+v for %d terms, %d bytes", st, len(order), all.ViewBytes())
	}
	if got := viewed(all); len(got) != len(order) {
		t.Fatalf("%d terms have views after warming, want %d", len(got), len(order))
	}
	// a second warming finds them all built
	if st2, err := all.WarmBoundViews(context.Background()); err != nil || st2 != st {
		t.Fatalf("warming again: %+v, %v; want %+v", st2, err, st)
	}

	// a budget of exactly the three largest terms' views keeps those three
	var three int64
	want := make([]uint32, 3)
	for i, ti := range order[:3] {
		three += all.views[ti.id].Load().size(ti)
		want[i] = ti.id
	}
	slices.Sort(want)
	ViewBudget = float64(three) / float64(len(all.postings))
	some, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer some.Close()
	st, err = some.WarmBoundViews(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := viewed(some); !slices.Equal(got, want) || st.Terms != 3 || st.Refused != len(order)-3 || st.Bytes != three {
		t.Fatalf("budget of three views: viewed %v (want %v), %+v, want %d bytes", got, want, st, three)
	}

	// a context already done builds nothing
	ViewBudget = 1e9
	none, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer none.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if st, err := none.WarmBoundViews(ctx); !errors.Is(err, context.Canceled) || st.Terms != 0 || none.ViewBytes() != 0 {
		t.Fatalf("cancelled warming: %+v, %v, %d bytes", st, err, none.ViewBytes())
	}
}
