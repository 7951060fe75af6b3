package search

// Recall returns the mean over queries of |got ∩ want| / |want| (queries
// whose reference list is empty count as 1): recall@k of an approximate run
// against the exact one.
func Recall(got, want [][]Hit) float64 {
	return recallBy(got, want, func(h Hit) uint32 { return h.Doc })
}

// RecallByID is Recall counting hits by external id: on a passage index
// searched by document, approximate search may reach a document through
// another passage than exact search did, and it is still the document;
// and a reference computed without the index knows only external ids.
func RecallByID(got, want [][]Hit) float64 {
	return recallBy(got, want, func(h Hit) string { return h.ID })
}

// recallBy is Recall with hits the same when their keys are.
func recallBy[K comparable](got, want [][]Hit, key func(Hit) K) float64 {
	if len(want) == 0 {
		return 1
	}
	var sum float64
	for i := range want {
		if len(want[i]) == 0 {
			sum++
			continue
		}
		in := make(map[K]bool, len(want[i]))
		for _, h := range want[i] {
			in[key(h)] = true
		}
		n := 0
		if i < len(got) {
			for _, h := range got[i] {
				if in[key(h)] {
					n++
				}
			}
		}
		sum += float64(n) / float64(len(want[i]))
	}
	return sum / float64(len(want))
}
