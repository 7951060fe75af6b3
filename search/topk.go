package search

// entry is a scored document; the internal score is a sum of
// float64(query weight) x impact, before index.Scale.
type entry struct {
	score float64
	doc   uint32
}

// worse orders entries: lower score, or equal score and larger doc id.
func worse(a, b entry) bool {
	return a.score < b.score || (a.score == b.score && a.doc > b.doc)
}

// topK keeps the k best entries in a min-heap whose root is the worst.
type topK struct {
	k int
	h []entry
}

func (t *topK) reset(k int) {
	t.k = k
	t.h = t.h[:0]
}

// threshold is the score a document must reach to possibly enter: the
// k-th score once k documents are held, else -1 (any positive score).
func (t *topK) threshold() float64 {
	if len(t.h) < t.k {
		return -1
	}
	return t.h[0].score
}

func (t *topK) push(score float64, doc uint32) {
	e := entry{score, doc}
	if len(t.h) < t.k {
		t.h = append(t.h, e)
		// sift up
		i := len(t.h) - 1
		for i > 0 {
			p := (i - 1) / 2
			if !worse(t.h[i], t.h[p]) {
				break
			}
			t.h[i], t.h[p] = t.h[p], t.h[i]
			i = p
		}
		return
	}
	if !worse(t.h[0], e) {
		return
	}
	t.h[0] = e
	n := len(t.h)
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		j := l
		if r := l + 1; r < n && worse(t.h[r], t.h[l]) {
			j = r
		}
		if !worse(t.h[j], t.h[i]) {
			return
		}
		t.h[i], t.h[j] = t.h[j], t.h[i]
		i = j
	}
}

// sorted returns the entries best first (and empties the heap).
func (t *topK) sorted() []entry {
	out := make([]entry, len(t.h))
	copy(out, t.h)
	// heap sort by "worse"; small k, simple insertion would do, but k may be 1000
	sortEntries(out)
	t.h = t.h[:0]
	return out
}

func sortEntries(es []entry) {
	// best first: descending score, ascending doc
	slicesSortFunc(es)
}
