package search

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
)

// TestSortByRange: both of sortByRange's ways (packed keys for small
// batches, the bitmap for large ones) give the order of a plain sort by
// range, keep every candidate's bound, and leave their scratch all zero.
func TestSortByRange(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	var keys []uint64
	for _, nr := range []int{1, 63, 64, 65, 1000, 6250} {
		ubOf := make([]uint32, nr)
		set := make([]uint64, (nr+63)/64)
		for _, n := range []int{0, 1, 2, 3, 5, 16, 100, nr / 2, nr} {
			if n > nr {
				continue
			}
			batch := make([]rangeCand, n)
			for i, r := range rng.Perm(nr)[:n] {
				batch[i] = rangeCand{ub: rng.Uint32(), r: uint32(r)}
			}
			want := slices.Clone(batch)
			slices.SortFunc(want, func(a, b rangeCand) int { return int(int64(a.r) - int64(b.r)) })
			sortByRange(batch, ubOf, set, &keys)
			if !slices.Equal(batch, want) {
				t.Fatalf("%d ranges, batch of %d: got %v, want %v", nr, n, batch, want)
			}
			if slices.ContainsFunc(ubOf, func(u uint32) bool { return u != 0 }) ||
				slices.ContainsFunc(set, func(w uint64) bool { return w != 0 }) {
				t.Fatalf("%d ranges, batch of %d: scratch not left zero", nr, n)
			}
		}
	}
}

// BenchmarkSortByRange compares sortByRange with the comparison sort it
// replaced, on batches of the sizes Block-Max Pruning scores, over the
// 6,250 ranges of 100k documents and the 62,500 of 1M:
//
//	go test ./search -run XXX -bench SortByRange
func BenchmarkSortByRange(b *testing.B) {
	for _, nr := range []int{6250, 62500} {
		for _, n := range []int{16, 256, 1024, 4096} {
			rng := rand.New(rand.NewSource(int64(n)))
			src := make([]rangeCand, n)
			for i, r := range rng.Perm(nr)[:n] {
				src[i] = rangeCand{ub: rng.Uint32(), r: uint32(r)}
			}
			batch := make([]rangeCand, n)
			ubOf, set := make([]uint32, nr), make([]uint64, (nr+63)/64)
			var keys []uint64
			b.Run(fmt.Sprintf("ranges=%d/batch=%d/bitmap", nr, n), func(b *testing.B) {
				for b.Loop() {
					copy(batch, src)
					sortByRange(batch, ubOf, set, &keys)
				}
			})
			b.Run(fmt.Sprintf("ranges=%d/batch=%d/sortfunc", nr, n), func(b *testing.B) {
				for b.Loop() {
					copy(batch, src)
					slices.SortFunc(batch, func(a, b rangeCand) int { return int(int64(a.r) - int64(b.r)) })
				}
			})
		}
	}
}
