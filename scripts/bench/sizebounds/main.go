// Command sizebounds measures two lower bounds on an index's size that do
// not depend on its layout (BENCHMARKS.md, "Index size: what bounds it"):
// the per-term order-0 entropy of all the stored impacts, and the bits of
// the document ids of every posting list taken as a random subset of the
// collection, sum over terms of log2 C(N, df). Not used by the product or
// CI.
//
//	go run ./scripts/bench/sizebounds /tmp/idx1m /tmp/idx100k
//
// It prints, per index, both in bits per posting.
package main

import (
	"fmt"
	"math"
	"os"

	"github.com/splade-go/splade/index"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: sizebounds INDEX_DIR...")
		os.Exit(2)
	}
	for _, dir := range os.Args[1:] {
		if err := measure(dir); err != nil {
			fmt.Fprintln(os.Stderr, "sizebounds:", err)
			os.Exit(1)
		}
	}
}

func measure(dir string) error {
	ix, err := index.Open(dir)
	if err != nil {
		return err
	}
	defer ix.Close()
	n := float64(ix.NumDocs())
	var postings, impactBits, subsetBits float64
	var c index.Cursor
	hist := map[float32]int64{}
	for t := 0; t < ix.NumTerms(); t++ {
		df := 0
		for c.Open(ix, uint32(t)); c.Doc() != index.End && c.Err() == nil; c.Next() {
			hist[c.Impact()]++
			df++
		}
		if err := c.Err(); err != nil {
			return err
		}
		for v, k := range hist {
			impactBits += float64(k) * math.Log2(float64(df)/float64(k))
			delete(hist, v)
		}
		if df > 0 {
			subsetBits += log2Choose(n, float64(df))
		}
		postings += float64(df)
	}
	fmt.Printf("%s\tpostings %.0f\timpacts %.3f bits/posting (per-term order-0 entropy)\tdocument ids %.3f bits/posting (random subsets)\n",
		dir, postings, impactBits/postings, subsetBits/postings)
	return nil
}

func log2Choose(n, k float64) float64 {
	a, _ := math.Lgamma(n + 1)
	b, _ := math.Lgamma(k + 1)
	c, _ := math.Lgamma(n - k + 1)
	return (a - b - c) / math.Ln2
}
