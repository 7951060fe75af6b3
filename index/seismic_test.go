package index

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// postingsOf returns every posting of every term: docs and u8 impacts.
func postingsOf(t *testing.T, ix *Index) ([][]uint32, [][]uint8) {
	t.Helper()
	docs, imps := make([][]uint32, ix.NumTerms()), make([][]uint8, ix.NumTerms())
	var c Cursor
	for term := range docs {
		for c.Open(ix, uint32(term)); c.Doc() != End; c.Next() {
			docs[term] = append(docs[term], c.Doc())
			imps[term] = append(imps[term], uint8(c.Impact()))
		}
		if err := c.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return docs, imps
}

// TestSeismicStructure checks a built structure against its definition,
// computed independently from the postings: the forward index, the kept
// postings (largest impacts, ties by document), the blocks and the
// summaries; and that seismic.bin reads back identical.
func TestSeismicStructure(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, randomDocs(3000, 400, 5), BuildOptions{Reorder: true})
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if ix.HasSeismic() {
		t.Fatal("a new index has a Seismic structure")
	}
	if _, err := ix.Seismic(); err == nil || !strings.Contains(err.Error(), "--seismic") {
		t.Fatalf("Seismic() without seismic.bin: %v", err)
	}
	// a missing structure is not remembered: added later through another
	// handle of the same index, it is found
	other, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Seismic(); err == nil {
		t.Fatal("Seismic() before the file exists")
	}
	defer func() {
		if _, err := other.Seismic(); err != nil {
			t.Errorf("Seismic() once seismic.bin was added: %v", err)
		}
	}()
	pdocs, pimps := postingsOf(t, ix)
	for _, o := range []SeismicOptions{{Lambda: 50, BlockSize: 7, SummaryMass: 0.3}, {Lambda: 1 << 20, BlockSize: 16, SummaryMass: 1}, {Lambda: 1, BlockSize: 1, SummaryMass: 0.01},
		{Lambda: 50, BlockSize: 7, SummaryMass: 0.3, Cluster: true}, {Lambda: 300, BlockSize: 4, SummaryMass: 1, Cluster: true}} {
		sm, err := ix.WriteSeismic(o)
		if err != nil {
			t.Fatal(err)
		}
		// forward index
		fwd := make([][]uint16, ix.NumDocs())
		fimp := make([][]uint8, ix.NumDocs())
		for term := range pdocs {
			for i, d := range pdocs[term] {
				fwd[d] = append(fwd[d], uint16(term))
				fimp[d] = append(fimp[d], pimps[term][i])
			}
		}
		for d := range fwd {
			terms, imps := sm.Doc(uint32(d))
			if !slices.Equal(terms, fwd[d]) || !slices.Equal(imps, fimp[d]) {
				t.Fatalf("%+v: forward entry of document %d differs", o, d)
			}
		}
		for term := range pdocs {
			// kept: sort by (impact desc, doc asc), take Lambda, by doc
			idx := make([]int, len(pdocs[term]))
			for i := range idx {
				idx[i] = i
			}
			slices.SortStableFunc(idx, func(a, b int) int { return int(pimps[term][b]) - int(pimps[term][a]) })
			var want []uint32
			for _, i := range idx[:min(len(idx), o.Lambda)] {
				want = append(want, pdocs[term][i])
			}
			slices.Sort(want)
			var blocks [][]uint32 // want cut into blocks
			for _, c := range clusters(want, o, fwd, fimp) {
				for i := 0; i < len(c); i += o.BlockSize {
					blocks = append(blocks, c[i:min(i+o.BlockSize, len(c))])
				}
			}
			lo, hi := sm.TermBlocks(uint32(term))
			if int(hi-lo) != len(blocks) {
				t.Fatalf("%+v: term %d has %d blocks, want %d", o, term, hi-lo, len(blocks))
			}
			for b := lo; b < hi; b++ {
				if bd := sm.BlockDocs(b); !slices.Equal(bd, blocks[b-lo]) {
					t.Fatalf("%+v: term %d block %d holds %v, want %v", o, term, b-lo, bd, blocks[b-lo])
				}
				checkSummary(t, o, sm, b, fwd, fimp)
			}
		}
		ix2, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		sm2, err := ix2.Seismic()
		ix2.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(sm, sm2) {
			t.Fatalf("%+v: seismic.bin reads back different", o)
		}
		if st := sm.Stats(); st.Bytes != fileSize(t, filepath.Join(ix.Dir(), fileSeismic)) {
			t.Fatalf("Stats().Bytes %d, file size %d", st.Bytes, fileSize(t, filepath.Join(ix.Dir(), fileSeismic)))
		}
	}
}

// clusters returns a term's kept documents (increasing) grouped as
// blocks are cut from: without clustering one group; with it, of n
// documents the ceil(n / BlockSize) at positions c*n/nc are centroids,
// every document joins the one of largest inner product (exact integers;
// ties to the first), groups in centroid order, documents increasing.
func clusters(kept []uint32, o SeismicOptions, fwd [][]uint16, fimp [][]uint8) [][]uint32 {
	n := len(kept)
	if !o.Cluster || n <= o.BlockSize {
		return [][]uint32{kept}
	}
	nc := (n + o.BlockSize - 1) / o.BlockSize
	inner := func(a, b uint32) int {
		w := map[uint16]int{}
		for i, u := range fwd[a] {
			w[u] = int(fimp[a][i])
		}
		s := 0
		for i, u := range fwd[b] {
			s += w[u] * int(fimp[b][i])
		}
		return s
	}
	groups := make([][]uint32, nc)
	for _, d := range kept {
		best, bc := -1, 0
		for c := 0; c < nc; c++ {
			if s := inner(kept[c*n/nc], d); s > best {
				best, bc = s, c
			}
		}
		groups[bc] = append(groups[bc], d)
	}
	return groups
}

func fileSize(t *testing.T, path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// checkSummary checks block b's summary: per term the block's largest
// impact; the entries kept are the largest ones (ties by term) and the
// fewest that reach the mass.
func checkSummary(t *testing.T, o SeismicOptions, sm *Seismic, b uint32, fwd [][]uint16, fimp [][]uint8) {
	t.Helper()
	maxima := map[uint16]uint8{}
	total := 0
	for _, d := range sm.BlockDocs(b) {
		for i, u := range fwd[d] {
			maxima[u] = max(maxima[u], fimp[d][i])
		}
	}
	type e struct {
		u uint16
		v uint8
	}
	var all []e
	for u, v := range maxima {
		all = append(all, e{u, v})
		total += int(v)
	}
	slices.SortFunc(all, func(a, b e) int {
		if a.v != b.v {
			return int(b.v) - int(a.v)
		}
		return int(a.u) - int(b.u)
	})
	var want []uint16
	acc := 0
	for _, x := range all {
		if x.v == 0 || float64(acc) >= o.SummaryMass*float64(total) {
			break
		}
		want = append(want, x.u)
		acc += int(x.v)
	}
	slices.Sort(want)
	terms, vals := sm.Summary(b)
	if !slices.Equal(terms, want) {
		t.Fatalf("%+v: block %d summary terms %v, want %v", o, b, terms, want)
	}
	for i, u := range terms {
		if vals[i] != maxima[u] {
			t.Fatalf("block %d summary of term %d is %d, the block's maximum %d", b, u, vals[i], maxima[u])
		}
	}
}

// TestSeismicErrors: options out of range, an index of float impacts,
// a corrupted seismic.bin (checksum) and crafted payloads whose checksum
// holds but whose contents do not (parseSeismic) are errors.
func TestSeismicErrors(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, randomDocs(500, 100, 6), BuildOptions{})
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	for _, o := range []SeismicOptions{{Lambda: -1, BlockSize: 16, SummaryMass: 0.5}, {Lambda: 10, SummaryMass: 0.5}, {Lambda: 10, BlockSize: 16}, {Lambda: 10, BlockSize: 16, SummaryMass: 1.5}} {
		if _, err := ix.WriteSeismic(o); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
	sm, err := ix.WriteSeismic(SeismicOptions{Lambda: 40, BlockSize: 8, SummaryMass: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(ix.Dir(), fileSeismic)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ix2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix2.Close()
	if _, err := ix2.Seismic(); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("flipped byte: %v", err)
	}
	// a valid payload, then each kind of crafted damage
	good := encodeSeismic(t, sm, ix)
	if _, err := parseSeismic(bytes.NewReader(good), uint64(len(good)), ix.NumDocs(), ix.NumTerms(), hostLittle); err != nil {
		t.Fatal(err)
	}
	for name, damage := range map[string]func(p []byte){
		"docs":       func(p []byte) { p[0]++ },
		"lambda":     func(p []byte) { clear(p[8:12]) },
		"length":     func(p []byte) { p[24]++ },
		"flags":      func(p []byte) { p[56] = 2 },
		"doc offset": func(p []byte) { p[seismicHead+8] = 0xff },
		"block doc": func(p []byte) {
			o := seismicHead + 8*(ix.NumDocs()+1) + 4*(ix.NumTerms()+1) + 8*len(sm.blkOff)
			p[o+3] = 0xff
		},
		"forward term":  func(p []byte) { o := len(p) - 3*len(sm.fwdTerm) - 3*len(sm.sumTerm); p[o+1] = 0xff },
		"term blocks":   func(p []byte) { p[seismicHead+8*(ix.NumDocs()+1)+4*ix.NumTerms()]++ },
		"block offsets": func(p []byte) { p[seismicHead+8*(ix.NumDocs()+1)+4*(ix.NumTerms()+1)+4] = 0xff },
	} {
		p := slices.Clone(good)
		damage(p)
		if _, err := parseSeismic(bytes.NewReader(p), uint64(len(p)), ix.NumDocs(), ix.NumTerms(), hostLittle); err == nil {
			t.Errorf("%s damaged: accepted", name)
		}
	}

	f16 := t.TempDir()
	build(t, f16, randomDocs(100, 50, 7), BuildOptions{Quantize: QuantF16})
	ix3, err := Open(f16)
	if err != nil {
		t.Fatal(err)
	}
	defer ix3.Close()
	if _, err := ix3.WriteSeismic(DefaultSeismicOptions); err == nil || !strings.Contains(err.Error(), "u8") {
		t.Fatalf("f16 index: %v", err)
	}
}

// encodeSeismic returns sm's seismic.bin payload.
func encodeSeismic(t testing.TB, sm *Seismic, ix *Index) []byte {
	dir := t.TempDir()
	fw, err := createFile(dir, "s")
	if err != nil {
		t.Fatal(err)
	}
	fw.kind = seismicKind
	if err := sm.write(fw, ix); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	return b[headerSize:]
}

// FuzzParseSeismic: no payload makes parseSeismic panic, and what it
// accepts is safe to walk.
func FuzzParseSeismic(f *testing.F) {
	ix := buildOpen(f, randomDocs(60, 30, 8), BuildOptions{})
	sm, err := BuildSeismic(ix, SeismicOptions{Lambda: 10, BlockSize: 4, SummaryMass: 0.5})
	if err != nil {
		f.Fatal(err)
	}
	good := encodeSeismic(f, sm, ix)
	f.Add(good)
	f.Add(good[:len(good)-1])
	withGraph, err := sm.WithNeighbors(ringNeighbors(ix.NumDocs(), 3), 3)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(encodeSeismic(f, withGraph, ix))
	f.Fuzz(func(t *testing.T, p []byte) {
		sm, err := parseSeismic(bytes.NewReader(p), uint64(len(p)), ix.NumDocs(), ix.NumTerms(), hostLittle)
		// the portable decoding must read the same structure, or fail alike
		sp, perr := parseSeismic(bytes.NewReader(p), uint64(len(p)), ix.NumDocs(), ix.NumTerms(), false)
		if fmt.Sprint(err) != fmt.Sprint(perr) || !reflect.DeepEqual(sm, sp) {
			t.Fatalf("direct and portable reads differ: %v / %v", err, perr)
		}
		if err != nil {
			return
		}
		for d := range ix.NumDocs() {
			if len(sm.Neighbors(uint32(d))) != sm.NeighborsPerDoc() {
				t.Fatalf("document %d: %d neighbours, the graph holds %d", d, len(sm.Neighbors(uint32(d))), sm.NeighborsPerDoc())
			}
		}
		for term := range ix.NumTerms() {
			lo, hi := sm.TermBlocks(uint32(term))
			for b := lo; b < hi; b++ {
				sm.Summary(b)
				for _, d := range sm.BlockDocs(b) {
					sm.Doc(d)
				}
			}
		}
	})
}

// TestDotMatchesPortable compares the vector dot product with the
// portable loop on every length up to 70 (tails included) and on term ids
// at both ends of the query vector; float32 sums in another order agree to
// a relative 1e-6 of the sum of the products' magnitudes.
func TestDotMatchesPortable(t *testing.T) {
	if !useDotAVX2 {
		t.Skip("no vector dot product on this machine")
	}
	r := rand.New(rand.NewPCG(3, 4))
	const nt = 30522
	qw := randomQueryWeights(r, nt, 4)
	for n := 0; n <= 70; n++ {
		for rep := 0; rep < 20; rep++ {
			terms, vals := make([]uint16, n), make([]uint8, n)
			var mag float64
			for i := range terms {
				switch rep {
				case 0:
					terms[i] = nt - 1
				case 1:
					terms[i] = 0
				default:
					terms[i] = uint16(r.IntN(nt))
				}
				vals[i] = uint8(r.IntN(256))
				mag += math.Abs(float64(qw[terms[i]]) * float64(vals[i]))
			}
			got, want := dot(qw, terms, vals, nt), dotPortable(qw, terms, vals)
			if math.Abs(float64(got)-float64(want)) > 1e-6*mag {
				t.Fatalf("n=%d: vector %v, portable %v", n, got, want)
			}
		}
	}
}

// randomQueryWeights returns dense query weights over nt terms, about one
// term in every non-zero, in [0, 3).
func randomQueryWeights(r *rand.Rand, nt, every int) []float32 {
	qw := make([]float32, nt)
	for i := range qw {
		if r.IntN(every) == 0 {
			qw[i] = r.Float32() * 3
		}
	}
	return qw
}

// TestSummaryScores: a term's blocks scored at once (the vector path: one
// call, masked gathers for the entries that do not fill 8 lanes) agree
// with the portable dot product of each block, for blocks of every length
// from 0 to 40, any range of blocks, the last blocks of the arrays (whose
// masked loads would pass the end) included; without the vector path it is
// SummaryScore itself.
func TestSummaryScores(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const nt = 30522
	qw := randomQueryWeights(r, nt, 3)
	sm := &Seismic{numTerms: nt, sumOff: []uint32{0}}
	for b := 0; b < 400; b++ {
		n := b % 41
		if b >= 390 {
			n = b % 3 // short blocks last: the end of the arrays
		}
		for i := 0; i < n; i++ {
			u := uint16(r.IntN(nt))
			if b%7 == 0 {
				u = nt - 1 // the last query weight
			}
			sm.sumTerm = append(sm.sumTerm, u)
			sm.sumVal = append(sm.sumVal, uint8(r.IntN(256)))
		}
		sm.sumOff = append(sm.sumOff, uint32(len(sm.sumTerm)))
	}
	nb := uint32(len(sm.sumOff) - 1)
	check := func(b0, b1 uint32) {
		t.Helper()
		out := make([]float32, b1-b0+1)
		out[b1-b0] = -1 // must stay: only b1-b0 scores are written
		sm.SummaryScores(b0, b1, qw, out)
		if out[b1-b0] != -1 {
			t.Fatalf("blocks [%d, %d): wrote past the scores", b0, b1)
		}
		for b := b0; b < b1; b++ {
			terms, vals := sm.Summary(b)
			var mag float64
			for i, u := range terms {
				mag += float64(qw[u]) * float64(vals[i])
			}
			want := dotPortable(qw, terms, vals)
			if got := out[b-b0]; math.Abs(float64(got)-float64(want)) > 1e-6*mag || (mag == 0 && got != 0) {
				t.Fatalf("blocks [%d, %d): block %d of %d entries scored %v, want %v", b0, b1, b, len(terms), got, want)
			}
		}
	}
	for _, vec := range []bool{useDotAVX2, false} {
		saved := useDotAVX2
		useDotAVX2 = vec
		check(0, nb)
		for i := 0; i < 300; i++ {
			b0 := uint32(r.IntN(int(nb)))
			check(b0, b0+uint32(r.IntN(int(nb-b0)+1)))
		}
		for b0 := nb - 15; b0 <= nb; b0++ {
			check(b0, nb)
		}
		useDotAVX2 = saved
	}
}

// TestAutoLambda: Lambda 0 resolves to 700 up to 1M documents and grows
// as N^(2/3) above; the structure records the resolved value.
func TestAutoLambda(t *testing.T) {
	for _, c := range []struct{ n, want int }{{10, 40}, {5000, 40}, {15_000, 43}, {100_000, 151}, {1_000_000, 700}, {2_000_000, 1111}, {8_800_000, 2984}} {
		if got := AutoLambda(c.n); got != c.want {
			t.Errorf("AutoLambda(%d) = %d, want %d", c.n, got, c.want)
		}
	}
	if o := (SeismicOptions{BlockSize: 8, SummaryMass: 0.2}).Resolve(10); o.Lambda != 40 {
		t.Errorf("Resolve: %+v", o)
	}
	if o := (SeismicOptions{Lambda: 5}).Resolve(10); o.Lambda != 5 {
		t.Errorf("Resolve kept an explicit lambda? %+v", o)
	}
	ix := buildOpen(t, randomDocs(300, 50, 9), BuildOptions{})
	sm, err := BuildSeismic(ix, DefaultSeismicOptions)
	if err != nil {
		t.Fatal(err)
	}
	if sm.Options.Lambda != 40 {
		t.Fatalf("built with lambda %d", sm.Options.Lambda)
	}
}

// TestSeismicProgress: every stage is reported in order, from 0 to its
// total, never backwards.
func TestSeismicProgress(t *testing.T) {
	ix := buildOpen(t, randomDocs(3000, 400, 10), BuildOptions{Reorder: true})
	var stages []string
	last := map[string][2]int{}
	sm, err := ix.WriteSeismicProgress(SeismicOptions{Lambda: 100, BlockSize: 4, SummaryMass: 0.4, Cluster: true}, func(stage string, done, total int) {
		if len(stages) == 0 || stages[len(stages)-1] != stage {
			stages = append(stages, stage)
		}
		if p, ok := last[stage]; (ok && (done < p[0] || total != p[1])) || done > total {
			t.Errorf("%s: %d of %d after %d of %d", stage, done, total, p[0], p[1])
		}
		last[stage] = [2]int{done, total}
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"forward index", "kept postings", "blocks", "summaries"}; !slices.Equal(stages, want) {
		t.Fatalf("stages %q, want %q", stages, want)
	}
	for st, p := range last {
		if p[0] != p[1] {
			t.Errorf("%s ended at %d of %d", st, p[0], p[1])
		}
	}
	if p := last["summaries"]; p[1] != 2*int(sm.Stats().Blocks) {
		t.Errorf("summaries: total %d for %d blocks", p[1], sm.Stats().Blocks)
	}
}

// TestUseSeismic: a structure built in memory is served by the opened
// index (the same as one written and read back), without touching
// seismic.bin; reopening the index serves the file again.
func TestUseSeismic(t *testing.T) {
	ix := buildOpen(t, randomDocs(2000, 300, 8), BuildOptions{Reorder: true})
	o := SeismicOptions{Lambda: 60, BlockSize: 4, SummaryMass: 0.5}
	written, err := ix.WriteSeismic(o)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(ix.Dir(), fileSeismic)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	other := SeismicOptions{Lambda: 30, BlockSize: 8, SummaryMass: 0.8}
	mem, err := ix.UseSeismic(other, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ix.Seismic(); err != nil || got != mem || got.Options != other.Resolve(ix.NumDocs()) {
		t.Fatalf("Seismic() = %+v, %v; want the structure built in memory", got, err)
	}
	if ix.ForwardIndex() != mem {
		t.Error("ForwardIndex does not serve the structure built in memory")
	}
	after, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(before, after) {
		t.Fatalf("seismic.bin changed (%v)", err)
	}
	ix2, err := Open(filepath.Dir(ix.Dir())) // the generation's parent
	if err != nil {
		t.Fatal(err)
	}
	defer ix2.Close()
	got, err := ix2.Seismic()
	if err != nil || got.Options != written.Options || !reflect.DeepEqual(got, written) {
		t.Fatalf("reopened: %v, options %+v; want the written structure", err, got.Options)
	}
}

// TestWithSummaryMass: a structure whose summaries are computed again with
// another mass is the structure built with that mass from the start, and
// SaveSeismic writes it as WriteSeismic would; ServeSeismic and SaveSeismic
// refuse a structure of another index.
func TestWithSummaryMass(t *testing.T) {
	ix := buildOpen(t, randomDocs(2000, 300, 8), BuildOptions{Reorder: true})
	for _, cluster := range []bool{false, true} {
		o := SeismicOptions{Lambda: 60, BlockSize: 4, SummaryMass: 0.4, Cluster: cluster}
		base, err := BuildSeismic(ix, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, mass := range []float64{0.4, 0.7, 1} {
			o.SummaryMass = mass
			want, err := BuildSeismic(ix, o)
			if err != nil {
				t.Fatal(err)
			}
			got, err := base.WithSummaryMass(mass, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("cluster %v, mass %g: differs from the structure built with it", cluster, mass)
			}
			if !bytes.Equal(encodeSeismic(t, got, ix), encodeSeismic(t, want, ix)) {
				t.Fatalf("cluster %v, mass %g: encodes differently", cluster, mass)
			}
		}
		if base.Options.SummaryMass != 0.4 {
			t.Fatalf("the base structure's mass changed to %g", base.Options.SummaryMass)
		}
		if _, err := base.WithSummaryMass(0, nil); err == nil {
			t.Error("mass 0 accepted")
		}
	}
	sm, err := BuildSeismic(ix, DefaultSeismicOptions)
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.SaveSeismic(sm); err != nil {
		t.Fatal(err)
	}
	ix2, err := Open(filepath.Dir(ix.Dir()))
	if err != nil {
		t.Fatal(err)
	}
	defer ix2.Close()
	if got, err := ix2.Seismic(); err != nil || !reflect.DeepEqual(got, sm) {
		t.Fatalf("reopened after SaveSeismic: %v; want the saved structure", err)
	}
	small := buildOpen(t, randomDocs(100, 300, 9), BuildOptions{})
	if err := small.ServeSeismic(sm); err == nil || !strings.Contains(err.Error(), "2000 documents") {
		t.Errorf("ServeSeismic of another index's structure: %v", err)
	}
	if err := small.SaveSeismic(sm); err == nil {
		t.Error("SaveSeismic of another index's structure accepted")
	}
	if _, err := os.Stat(filepath.Join(small.Dir(), fileSeismic)); !os.IsNotExist(err) {
		t.Errorf("a refused structure left %s (%v)", fileSeismic, err)
	}
}

// TestReadInts: reading little-endian integers straight into memory gives
// the portable decoding's values, for each width and for lengths around
// the read chunks, and both fail on a short input.
func TestReadInts(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	raw := make([]byte, 3*readChunk+24)
	for i := range raw {
		raw[i] = byte(r.IntN(256))
	}
	read := map[string]func(b []byte, direct bool) (any, error){
		"uint16": func(b []byte, direct bool) (any, error) {
			d := make([]uint16, (len(b)+1)/2)
			return d, readInts(bytes.NewReader(b), d, direct)
		},
		"uint32": func(b []byte, direct bool) (any, error) {
			d := make([]uint32, (len(b)+3)/4)
			return d, readInts(bytes.NewReader(b), d, direct)
		},
		"uint64": func(b []byte, direct bool) (any, error) {
			d := make([]uint64, (len(b)+7)/8)
			return d, readInts(bytes.NewReader(b), d, direct)
		},
	}
	for _, n := range []int{8, readChunk, readChunk + 8, 3*readChunk + 24} {
		for name, f := range read {
			d, derr := f(raw[:n], hostLittle)
			p, perr := f(raw[:n], false)
			if derr != nil || perr != nil || !reflect.DeepEqual(d, p) {
				t.Fatalf("%s, %d bytes: direct and portable reads differ (%v, %v)", name, n, derr, perr)
			}
			// one byte short: the last entry cannot be read
			for _, direct := range []bool{hostLittle, false} {
				if _, err := f(raw[:n-1], direct); err == nil {
					t.Fatalf("%s, %d bytes less one, direct %v: no error", name, n, direct)
				}
			}
		}
	}
	got := make([]uint32, 2)
	if err := readInts(bytes.NewReader([]byte{1, 0, 0, 0, 0, 1, 0, 0}), got, hostLittle); err != nil || got[0] != 1 || got[1] != 256 {
		t.Fatalf("read %v, %v; want [1 256] (little-endian)", got, err)
	}
}

// ringNeighbors is a graph of k neighbours per document for tests: the k
// documents after d, around the ring of nd.
func ringNeighbors(nd, k int) []uint32 {
	nbs := make([]uint32, 0, nd*k)
	for d := range nd {
		for j := 1; j <= k; j++ {
			nbs = append(nbs, uint32((d+j)%nd))
		}
	}
	return nbs
}

// TestSeismicNeighbors: a graph is checked when attached, written into
// seismic.bin and read back as it was; dropping it gives back the file
// without one; damaged neighbour ids and counts are refused.
func TestSeismicNeighbors(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, randomDocs(300, 80, 11), BuildOptions{})
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	sm, err := ix.WriteSeismic(SeismicOptions{Lambda: 40, BlockSize: 8, SummaryMass: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(ix.Dir(), fileSeismic)
	plain, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	nd := ix.NumDocs()
	nbs := ringNeighbors(nd, 5)
	for name, tc := range map[string]struct {
		nbs []uint32
		k   int
	}{
		"short":          {nbs[:len(nbs)-1], 5},
		"beyond the ids": {append(slices.Clone(nbs[:len(nbs)-1]), uint32(nd)), 5},
		"k too large":    {make([]uint32, nd*(MaxNeighbors+1)), MaxNeighbors + 1},
		"negative k":     {nil, -1},
	} {
		if _, err := sm.WithNeighbors(tc.nbs, tc.k); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	g, err := sm.WithNeighbors(nbs, 5)
	if err != nil {
		t.Fatal(err)
	}
	if sm.NeighborsPerDoc() != 0 || g.NeighborsPerDoc() != 5 || g.Stats().Neighbors != 5 {
		t.Fatalf("neighbours per document: original %d, copy %d", sm.NeighborsPerDoc(), g.NeighborsPerDoc())
	}
	if err := ix.SaveSeismic(g); err != nil {
		t.Fatal(err)
	}
	if got := fileSize(t, path); got != g.Stats().Bytes || got != int64(len(plain))+int64(4*nd*5) {
		t.Fatalf("seismic.bin of %d bytes, stats say %d, want %d + 4 x %d x 5", got, g.Stats().Bytes, len(plain), nd)
	}
	ix2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix2.Close()
	back, err := ix2.Seismic()
	if err != nil {
		t.Fatal(err)
	}
	if back.NeighborsPerDoc() != 5 {
		t.Fatalf("read back %d neighbours per document", back.NeighborsPerDoc())
	}
	for d := range nd {
		if !slices.Equal(back.Neighbors(uint32(d)), nbs[d*5:(d+1)*5]) {
			t.Fatalf("document %d: neighbours %v, wrote %v", d, back.Neighbors(uint32(d)), nbs[d*5:(d+1)*5])
		}
	}
	// summaries recomputed keep the graph
	if m, err := back.WithSummaryMass(0.7, nil); err != nil || m.NeighborsPerDoc() != 5 {
		t.Fatalf("WithSummaryMass: %v, %d neighbours", err, m.NeighborsPerDoc())
	}
	none, err := back.WithNeighbors(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p := encodeSeismic(t, none, ix); !bytes.Equal(p, plain[headerSize:]) {
		t.Fatal("dropping the graph does not give back the payload without one")
	}
	good := encodeSeismic(t, g, ix)
	for name, damage := range map[string]func(p []byte) []byte{
		"neighbour id":     func(p []byte) []byte { p[len(p)-1] = 0xff; return p },
		"graph cut off":    func(p []byte) []byte { return p[:len(p)-4*nd*5] },
		"count not stored": func(p []byte) []byte { p[57] = 0; return p },
		"count too large":  func(p []byte) []byte { p[57] = 6; return p },
	} {
		p := damage(slices.Clone(good))
		if _, err := parseSeismic(bytes.NewReader(p), uint64(len(p)), nd, ix.NumTerms(), hostLittle); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestSeismicOffsetWidths: the 32-bit document offsets (narrow) and the
// 64-bit ones, which a forward index of 2^32 entries or more uses, give
// every document the same entries and scores.
func TestSeismicOffsetWidths(t *testing.T) {
	ix := buildOpen(t, randomDocs(400, 90, 12), BuildOptions{})
	sm, err := BuildSeismic(ix, SeismicOptions{Lambda: 30, BlockSize: 4, SummaryMass: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if sm.off32 == nil {
		t.Fatal("no 32-bit offsets for a small forward index")
	}
	wide := *sm
	wide.off32 = nil
	qw := make([]float32, ix.NumTerms())
	for i := range qw {
		qw[i] = float32(i%7) / 3
	}
	for d := uint32(0); d < uint32(ix.NumDocs()); d++ {
		t1, i1 := sm.Doc(d)
		t2, i2 := wide.Doc(d)
		if !slices.Equal(t1, t2) || !slices.Equal(i1, i2) || sm.DocScore(d, qw) != wide.DocScore(d, qw) {
			t.Fatalf("document %d differs between offset widths", d)
		}
		wide.PrefetchDocs([]uint32{d})
	}
}
