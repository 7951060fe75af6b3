package index_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/internal/racedetect"
	"github.com/splade-go/splade/search"
	"github.com/splade-go/splade/sparse"
	"github.com/splade-go/splade/synth"
)

// childEnv carries, to a child process running TestCrashChild, what to
// build: "input,dir".
const childEnv = "SPLADE_INDEX_CRASH_CHILD"

// crashBuildOptions spill runs (a small memory budget) and reorder, so that
// a build goes through every phase: parsing, spilling, merging, reordering,
// writing each file, committing CURRENT, removing the old generation.
var crashBuildOptions = index.BuildOptions{MemoryBudget: 256 << 10, Reorder: true}

// TestCrashChild is the child of TestSIGKILLDuringBuild: it indexes a vector
// file as `splade index` does. It does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	spec := os.Getenv(childEnv)
	if spec == "" {
		t.Skip("runs as a child of TestSIGKILLDuringBuild")
	}
	input, dir, _ := strings.Cut(spec, ",")
	if _, err := index.BuildFromFile(input, dir, crashBuildOptions, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	// Tell a timing parent that the build is done: the process's exit
	// comes later (much later under the race detector).
	fmt.Println("built")
}

// timedBuild builds input into dir in a child process and returns the time
// until the build was done (committed, old generation removed).
func timedBuild(t *testing.T, input, dir string) time.Duration {
	t.Helper()
	cmd := buildCommand(input, dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var span time.Duration
	for sc.Scan() {
		if sc.Text() == "built" && span == 0 {
			span = time.Since(start)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if span == 0 {
		t.Fatal("the timed build did not report its end")
	}
	return span
}

// startBuild starts a child process indexing input into dir.
func startBuild(t *testing.T, input, dir string) *exec.Cmd {
	t.Helper()
	cmd := buildCommand(input, dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// buildCommand is a child process (TestCrashChild) indexing input into dir.
func buildCommand(input, dir string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), childEnv+"="+input+","+dir)
	cmd.Stderr = os.Stderr
	return cmd
}

// writeVectors writes the documents of a synthetic collection to a JSONL
// file and returns it with the collection's queries.
func writeVectors(t *testing.T, path string, docs int, seed int64) []sparse.Vector {
	g := synth.New(synth.Options{Docs: docs, Queries: 12, Seed: seed})
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := sparse.NewWriter(f)
	for i := range docs {
		if err := w.Write(g.Doc(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	qs := make([]sparse.Vector, 12)
	for i := range qs {
		qs[i] = g.Query(i).Vector
	}
	return qs
}

// answers are an index's top-10 for every query, in two query processors,
// with its size: what "answers identically" compares.
func answers(t *testing.T, ix *index.Index, queries []sparse.Vector) string {
	t.Helper()
	s := search.New(ix)
	var b strings.Builder
	fmt.Fprintf(&b, "docs %d terms %d postings %d\n", ix.NumDocs(), ix.NumTerms(), ix.Meta.Postings)
	for _, q := range queries {
		for _, mode := range []search.Mode{search.Exhaustive, search.BlockMax} {
			hits, err := s.Search(q, search.Options{K: 10, Mode: mode})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hits {
				fmt.Fprintf(&b, "%s:%v ", h.ID, h.Score)
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func generations(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var gens []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "gen-") {
			gens = append(gens, e.Name())
		}
	}
	return gens
}

// TestSIGKILLDuringBuild kills index builds (child processes writing into
// a directory that holds a committed index) with SIGKILL at many points
// spread over the build, alternating two collections. After every kill the
// directory must open and answer exactly as the collection of its current
// generation, which must be the last committed one or the one being built,
// and every other generation directory must either fail to open (a partial
// one) or be the complete index of the collection it was built with (a
// build killed after writing everything, before committing; or an old
// generation a killed build had not finished removing). Then a build must
// still succeed there and clear the leftovers. Builds mostly wait on
// fsync, so four directories are worked in parallel. SIGKILL stops the
// process, not the machine: unwritten page cache survives, so this checks
// the write order and the atomic commit, not fsync against power loss.
func TestSIGKILLDuringBuild(t *testing.T) {
	kills, lanes, docs := 24, 4, 1000
	if racedetect.Enabled || testing.Short() {
		kills, docs = 16, 400
	}
	tmp := t.TempDir()
	inputs := map[string]string{"A": filepath.Join(tmp, "a.jsonl"), "B": filepath.Join(tmp, "b.jsonl")}
	queries := writeVectors(t, inputs["A"], docs, 11)
	writeVectors(t, inputs["B"], docs, 12)

	// The answers of each collection, from builds in their own directories.
	want := map[string]string{}
	for c, input := range inputs {
		ref := filepath.Join(tmp, "ref-"+c)
		if _, err := index.BuildFromFile(input, ref, crashBuildOptions, nil); err != nil {
			t.Fatal(err)
		}
		ix, err := index.Open(ref)
		if err != nil {
			t.Fatal(err)
		}
		want[c] = answers(t, ix, queries)
		ix.Close()
	}
	if want["A"] == want["B"] {
		t.Fatal("the two collections answer alike: the test could not tell them apart")
	}

	var mu sync.Mutex
	outcomes := map[string]int{}
	t.Run("lanes", func(t *testing.T) {
		for l := range lanes {
			t.Run(fmt.Sprint(l), func(t *testing.T) {
				t.Parallel()
				lane := &crashLane{t: t, dir: filepath.Join(tmp, fmt.Sprint("idx", l)), inputs: inputs, queries: queries,
					want: want, builtWith: map[string]string{}}
				got := lane.run(kills/lanes, uint64(l))
				mu.Lock()
				for k, v := range got {
					outcomes[k] += v
				}
				mu.Unlock()
			})
		}
	})
	t.Logf("%d kills over builds of %d documents: %v", kills, docs, outcomes)
	if outcomes["previous index kept"]+outcomes["partial generation refused"] < kills/3 {
		t.Errorf("only %v: too few kills landed before a commit to test anything", outcomes)
	}
}

var otherCollection = map[string]string{"A": "B", "B": "A"}

// crashLane kills builds in one directory.
type crashLane struct {
	t       *testing.T
	dir     string
	inputs  map[string]string
	queries []sparse.Vector
	want    map[string]string
	// builtWith records the collection each generation directory was
	// written with: a generation that appears during a build is that
	// build's.
	builtWith map[string]string
	committed string
}

// run makes a first build, timed, then kills n builds at points spread over
// one, then makes a last build; it returns what the kills left, counted.
func (l *crashLane) run(n int, seed uint64) map[string]int {
	t := l.t
	span := timedBuild(t, l.inputs["A"], l.dir)
	if l.committed, _ = l.check("first build", "A"); l.committed != "A" {
		t.Fatalf("first build serves %s", l.committed)
	}
	// The first build pays for cold caches; kills are timed from the
	// faster of it and a second, warm build, or most land after the commit.
	span = min(span, timedBuild(t, l.inputs["B"], l.dir))
	if l.committed, _ = l.check("second build", "B"); l.committed != "B" {
		t.Fatalf("second build serves %s", l.committed)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), seed))
	outcomes := map[string]int{}
	for i := range n {
		// Half the kills are spread over the whole build, half over its
		// last 40% (short of the process's exit), where the files are
		// written and committed.
		frac := (float64(i/2) + rng.Float64()) / float64((n+1)/2)
		if i%2 == 1 {
			frac = 0.6 + 0.35*frac
		}
		delay := time.Duration(frac * float64(span))
		building := otherCollection[l.committed]
		cmd := startBuild(t, l.inputs[building], l.dir)
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		killed := false
		if ee, ok := err.(*exec.ExitError); ok {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
				killed = true
			}
		}
		if !killed && err != nil {
			t.Fatalf("kill %d: the build failed by itself: %v", i, err)
		}
		var outcome string
		l.committed, outcome = l.check(fmt.Sprintf("kill %d at %v (%.0f%% of a %v build)", i, delay.Round(time.Millisecond), 100*frac, span.Round(time.Millisecond)), building)
		if !killed {
			outcome = "build finished before the kill"
		}
		outcomes[outcome]++
		// Builds speed up when the other packages' tests finish: a kill
		// that came after the commit means span overestimates a build
		// now, so shorten it.
		if outcome == "new index committed" || !killed {
			span = max(span/2, time.Millisecond)
		}
	}

	// A build after all this succeeds and leaves one generation.
	final := otherCollection[l.committed]
	if err := startBuild(t, l.inputs[final], l.dir).Wait(); err != nil {
		t.Fatal(err)
	}
	if served, _ := l.check("final build", final); served != final {
		t.Fatalf("final build: serves %s, want %s", served, final)
	}
	if gens := generations(t, l.dir); len(gens) != 1 {
		t.Errorf("after a completed build: generations %v, want one", gens)
	}
	if entries, _ := os.ReadDir(l.dir); !slices.ContainsFunc(entries, func(e os.DirEntry) bool { return e.Name() == "CURRENT" }) || len(entries) != 2 {
		t.Errorf("after a completed build the directory holds %d entries", len(entries))
	}
	return outcomes
}

// check verifies the directory after a build of collection building ended
// (killed or not) and returns the collection served now and what the kill
// left.
func (l *crashLane) check(step, building string) (string, string) {
	t := l.t
	t.Helper()
	for _, g := range generations(t, l.dir) {
		if _, ok := l.builtWith[g]; !ok {
			l.builtWith[g] = building
		}
	}
	gen, err := index.CurrentGeneration(l.dir)
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	ix, err := index.Open(l.dir)
	if err != nil {
		t.Fatalf("%s: the index no longer opens: %v", step, err)
	}
	got := answers(t, ix, l.queries)
	ix.Close()
	serves := l.builtWith[gen]
	if got != l.want[serves] {
		t.Fatalf("%s: the current generation %s does not answer as collection %s, which it was built with", step, gen, serves)
	}
	if serves != l.committed && serves != building {
		t.Fatalf("%s: serves collection %s, neither the one committed (%s) nor the one being built", step, serves, l.committed)
	}
	outcome := "previous index kept"
	if serves != l.committed {
		outcome = "new index committed"
	}
	// Leftovers: of the killed build, or older generations that a killed
	// build had not finished removing. One that opens must be the complete
	// index of its collection.
	for _, g := range generations(t, l.dir) {
		if g == gen {
			continue
		}
		ix, err := index.OpenGeneration(filepath.Join(l.dir, g))
		if err != nil {
			if l.builtWith[g] == building && outcome == "previous index kept" {
				outcome = "partial generation refused"
			}
			continue
		}
		left := answers(t, ix, l.queries)
		ix.Close()
		if left != l.want[l.builtWith[g]] {
			t.Fatalf("%s: leftover %s opens but is not the complete index of collection %s it was built with", step, g, l.builtWith[g])
		}
		if l.builtWith[g] == building && outcome == "previous index kept" {
			outcome = "complete generation not yet committed"
		}
	}
	return serves, outcome
}

// TestEveryByteFlipDetected flips, one at a time, every bit pattern 0x01 of
// every byte of every file of a small index: each must make Open fail with
// an error naming the file (the header and payload checksums), and the
// index must open again once the byte is restored.
func TestEveryByteFlipDetected(t *testing.T) {
	dir := t.TempDir()
	// A small index, so that every byte can be flipped: 24 documents of
	// three terms each, from a vocabulary of 15.
	recs := make([]sparse.Record, 24)
	for i := range recs {
		recs[i] = sparse.Record{ID: fmt.Sprint("doc", i), Vector: sparse.Vector{
			Terms:   []string{fmt.Sprint("a", i%7), fmt.Sprint("b", i%5), fmt.Sprint("c", i%3)},
			Weights: []float32{0.5 + float32(i%4), 1.25, 0.1 * float32(1+i%9)},
		}}
	}
	if _, err := index.Build(dir, recs, index.BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	gen, err := index.CurrentGeneration(dir)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, gen))
	if err != nil {
		t.Fatal(err)
	}
	flips := 0
	for _, e := range entries {
		path := filepath.Join(dir, gen, e.Name())
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 1)
		for at := int64(0); at < st.Size(); at++ {
			if _, err := f.ReadAt(b, at); err != nil {
				t.Fatal(err)
			}
			orig := b[0]
			b[0] ^= 1
			if _, err := f.WriteAt(b, at); err != nil {
				t.Fatal(err)
			}
			ix, err := index.Open(dir)
			if err == nil {
				ix.Close()
				t.Fatalf("%s: flipping byte %d of %d went undetected", e.Name(), at, st.Size())
			}
			if !strings.Contains(err.Error(), e.Name()) {
				t.Fatalf("%s byte %d: error %q does not name the file", e.Name(), at, err)
			}
			b[0] = orig
			if _, err := f.WriteAt(b, at); err != nil {
				t.Fatal(err)
			}
			flips++
		}
		f.Close()
	}
	ix, err := index.Open(dir)
	if err != nil {
		t.Fatalf("after restoring every byte: %v", err)
	}
	ix.Close()
	t.Logf("%d single-bit flips over %d files, all detected", flips, len(entries))
}
