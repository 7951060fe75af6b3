package index

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestPForRandomAccess(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 300; trial++ {
		n := 1 + r.IntN(255)
		vals := make([]uint32, n)
		wide := r.IntN(4)
		for i := range vals {
			vals[i] = uint32(r.IntN(8))
			if r.IntN(10) < wide {
				vals[i] = r.Uint32() >> uint(r.IntN(32))
			}
		}
		enc := appendPFor([]byte{0xAA}, vals, nil)[1:]
		enc = append(enc, 0xBB) // a following stream
		if sz := pforSize(enc, n); sz != len(enc)-1 {
			t.Fatalf("pforSize = %d, want %d", sz, len(enc)-1)
		}
		for i, v := range vals {
			if got := pforAt(enc, n, i); got != v {
				t.Fatalf("n=%d value %d: pforAt %d, want %d", n, i, got, v)
			}
		}
		if pforSize(enc[:len(enc)-2], n) >= 0 {
			t.Fatal("pforSize accepted a truncated block")
		}
	}
	if pforSize([]byte{33, 0}, 4) >= 0 || pforSize([]byte{3, 9, 1}, 4) >= 0 || pforSize([]byte{3, 1, 30}, 4) >= 0 {
		t.Fatal("pforSize accepted a malformed header")
	}
}

func TestBitStream(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	type field struct {
		v     uint64
		width int
	}
	var fields []field
	var w bitWriter
	for i := 0; i < 2000; i++ {
		width := 1 + r.IntN(64)
		v := r.Uint64() & (1<<width - 1)
		if width == 64 {
			v = r.Uint64()
		}
		fields = append(fields, field{v, width})
		w.write(v, width)
	}
	buf := w.flush()
	bit := 0
	for i, f := range fields {
		if got := readWide(buf, bit, f.width); got != f.v {
			t.Fatalf("field %d (width %d): %x, want %x", i, f.width, got, f.v)
		}
		bit += f.width
	}
	if len(buf) != (bit+7)/8 {
		t.Fatalf("%d bytes for %d bits", len(buf), bit)
	}
}

// memIndex builds an index of one term in memory: docs (increasing) over
// nDocs documents, raws its stored impacts.
func memIndex(q Quantization, rangeSize, nDocs int, docs, raws []uint32) *Index {
	nr := (nDocs + rangeSize - 1) / rangeSize
	rs := 1.0
	if q != QuantU8 {
		rs = 4.0 / 255 * (1 + 1e-6)
	}
	enc := termEncoder{q: q, rangeSize: rangeSize, lg: log2(rangeSize), nRanges: nr, rangeScale: rs}
	et := enc.encode(docs, raws)
	ix := &Index{Meta: Meta{Docs: nDocs, Terms: 1, RangeSize: rangeSize, Ranges: nr, RangeScale: rs, Scale: 1},
		q: q, rangeLog: log2(rangeSize), postings: et.data}
	for _, v := range et.dir {
		ix.dir8 = binary.LittleEndian.AppendUint32(ix.dir8, v)
	}
	ti := termInfo{df: len(docs), pairs: et.pairs, blocks: len(et.dir) / 2, layout: et.layout, blockLog: et.blockLog,
		dataEnd: uint64(len(et.data))}
	if ti.layout == layoutDense {
		ti.blocksOff = uint64(nr + 4*rankEntries(nr))
	}
	ix.terms = []termInfo{ti}
	return ix
}

func log2(n int) int {
	l := 0
	for 1<<l < n {
		l++
	}
	return l
}

// TestTermCodecShapes round-trips posting lists of extreme shapes through
// the term encoder and every read path: full ranges (document masks),
// single postings, runs of equal impacts, the last short range.
func TestTermCodecShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, q := range []Quantization{QuantU8, QuantF16, QuantF32} {
		for _, R := range []int{4, 8, 16, 32, 64} {
			for shape := 0; shape < 6; shape++ {
				nDocs := 1 + r.IntN(5000)
				var docs []uint32
				for d := 0; d < nDocs; d++ {
					var keep bool
					switch shape {
					case 0:
						keep = true // every document
					case 1:
						keep = d == nDocs-1 // one posting, in the last range
					case 2:
						keep = r.IntN(40) == 0
					case 3:
						keep = (d/R)%3 == 0 // whole ranges
					case 4:
						keep = r.IntN(2) == 0
					default:
						keep = d%R == R-1 || d == 0
					}
					if keep {
						docs = append(docs, uint32(d))
					}
				}
				raws := make([]uint32, len(docs))
				for i := range raws {
					w := float32(r.IntN(4)+1) * 0.5 // equal impacts provoke ties for the maximum
					if shape == 4 {
						w = r.Float32()*3 + 0.01
					}
					raws[i] = rawImpact(q, w, 4.0/255, 255)
				}
				ix := memIndex(q, R, nDocs, docs, raws)
				want := map[uint32]float32{}
				for i, d := range docs {
					want[d] = impactValue(q, raws[i])
				}
				checkTerm(t, ix, want)
			}
		}
	}
}

// checkTerm checks every read path of term 0 of ix against want.
func checkTerm(t *testing.T, ix *Index, want map[uint32]float32) {
	t.Helper()
	var c Cursor
	var got []uint32
	for c.Open(ix, 0); c.Doc() != End; c.Next() {
		if c.Impact() != want[c.Doc()] {
			t.Fatalf("R=%d %v doc %d: impact %v, want %v", ix.Meta.RangeSize, ix.q, c.Doc(), c.Impact(), want[c.Doc()])
		}
		got = append(got, c.Doc())
	}
	if c.Err() != nil {
		t.Fatal(c.Err())
	}
	if len(got) != len(want) || !slices.IsSorted(got) {
		t.Fatalf("R=%d %v: cursor gave %d postings, want %d", ix.Meta.RangeSize, ix.q, len(got), len(want))
	}
	byDoc := map[[2]uint32]float32{}
	for d, v := range want {
		byDoc[[2]uint32{0, d}] = v
	}
	checkReadPaths(t, ix, byDoc)
}

// FuzzPairBlock decodes arbitrary bytes as one term's posting blocks, in
// either layout, range size and quantization, through every read path:
// corrupted or crafted blocks must give errors, never a panic or an
// out-of-range document. (Open checks the directory and term records,
// which this target builds valid, as FuzzIndexFiles does for whole files.)
func FuzzPairBlock(f *testing.F) {
	// seeds: real blocks
	r := rand.New(rand.NewPCG(3, 3))
	for _, R := range []int{4, 16, 64} {
		var docs, raws []uint32
		for d := 0; d < 3000; d++ {
			if r.IntN(3) == 0 {
				docs = append(docs, uint32(d))
				raws = append(raws, uint32(1+r.IntN(255)))
			}
		}
		ix := memIndex(QuantU8, R, 3000, docs, raws)
		f.Add(ix.postings, uint8(log2(R)), uint8(0), ix.terms[0].layout == layoutDense, uint16(ix.terms[0].pairs), ix.terms[0].blockLog)
	}
	f.Fuzz(func(t *testing.T, data []byte, rlog, qsel uint8, dense bool, pairs uint16, blockLog uint8) {
		R := 1 << (2 + rlog%5)
		q := Quantization(qsel % 3)
		const nDocs = 3000
		nr := (nDocs + R - 1) / R
		ix := &Index{Meta: Meta{Docs: nDocs, Terms: 1, RangeSize: R, Ranges: nr, RangeScale: 4.0 / 255, Scale: 1},
			q: q, rangeLog: log2(R)}
		ti := termInfo{df: nDocs, blockLog: 4 + blockLog%4}
		var blocks []byte
		if dense {
			ti.layout = layoutDense
			maxima := make([]byte, nr)
			copy(maxima, data)
			for _, m := range maxima {
				if m != 0 {
					ti.pairs++
				}
			}
			if ti.pairs == 0 {
				return
			}
			ix.postings = appendRank(maxima, maxima)
			ti.blocksOff = uint64(len(ix.postings))
			if len(data) > nr {
				blocks = data[nr:]
			}
		} else {
			ti.pairs = 1 + int(pairs)%nr
			blocks = data
		}
		B := 1 << ti.blockLog
		ti.blocks = (ti.pairs + B - 1) / B
		if len(blocks) < ti.blocks {
			return
		}
		ix.postings = append(ix.postings, blocks...)
		ti.dataEnd = uint64(len(ix.postings))
		// a valid directory: increasing last ranges (dense: the real ones)
		// and offsets splitting the bytes evenly
		var present []uint32
		if dense {
			for r, m := range ix.postings[:nr] {
				if m != 0 {
					present = append(present, uint32(r))
				}
			}
		}
		for b := 0; b < ti.blocks; b++ {
			last := uint32(min(nr-1, (b+1)*nr/ti.blocks-1+b%2))
			if dense {
				last = present[min(len(present), (b+1)*B)-1]
			} else if b > 0 && last <= binary.LittleEndian.Uint32(ix.dir8[8*(b-1):]) {
				return
			}
			ix.dir8 = binary.LittleEndian.AppendUint32(ix.dir8, last)
			ix.dir8 = binary.LittleEndian.AppendUint32(ix.dir8, uint32(b*len(blocks)/ti.blocks))
		}
		ix.terms = []termInfo{ti}
		var c Cursor
		prev := int64(-1)
		for c.Open(ix, 0); c.Doc() != End; c.Next() {
			if int64(c.Doc()) <= prev || c.Doc() >= nDocs || !(c.Impact() > 0) {
				t.Fatalf("cursor: doc %d after %d, impact %v", c.Doc(), prev, c.Impact())
			}
			prev = int64(c.Doc())
		}
		c.Open(ix, 0)
		c.NextGEQ(nDocs / 2)
		var pb PairBlock
		acc := make([]float64, nDocs)
		ix.ScoreTerm(0, 1, acc, &pb)
		ub := make([]uint32, nr)
		var known KnownPairs
		ix.AddBounds(0, 1, ub, &pb, &known)
		var ranges []uint32
		for r := 0; r < nr; r += 3 {
			ranges = append(ranges, uint32(r))
		}
		racc := make([]float64, len(ranges)*R)
		ix.ScoreRanges(0, 1, ranges, racc, &pb, nil)
		ix.ScoreRanges(0, 1, ranges, racc, &pb, &known)
	})
}

// TestPairArena: what the arena lends stays the borrower's until Reset,
// also across its growth, and Reset lends the same memory again.
func TestPairArena(t *testing.T) {
	var a PairArena
	var lent [][]uint32
	for i, n := range []int{3, 5000, 1, 9000, 0, 70} {
		r, m := a.take(n)
		if len(r) != n || len(m) != n || cap(r) != n || cap(m) != n {
			t.Fatalf("take(%d): len %d/%d cap %d/%d", n, len(r), len(m), cap(r), cap(m))
		}
		for j := range r {
			r[j], m[j] = uint32(i), uint32(i)+100
		}
		lent = append(lent, r, m)
	}
	for i := 0; i < len(lent); i += 2 {
		for j := range lent[i] {
			if lent[i][j] != uint32(i/2) || lent[i+1][j] != uint32(i/2)+100 {
				t.Fatalf("loan %d overwritten", i/2)
			}
		}
	}
	a.Reset()
	before := &a.ranges[0]
	r, _ := a.take(len(a.ranges))
	if &r[0] != before {
		t.Fatal("Reset did not lend the same memory again")
	}
}
