package search

// Recall returns the mean over queries of |got ∩ want| / |want| (queries
// whose reference list is empty count as 1): recall@k of an approximate run
// against the exact one.
func Recall(got, want [][]Hit) float64 {
	if len(want) == 0 {
		return 1
	}
	var sum float64
	for i := range want {
		if len(want[i]) == 0 {
			sum++
			continue
		}
		in := make(map[uint32]bool, len(want[i]))
		for _, h := range want[i] {
			in[h.Doc] = true
		}
		n := 0
		if i < len(got) {
			for _, h := range got[i] {
				if in[h.Doc] {
					n++
				}
			}
		}
		sum += float64(n) / float64(len(want[i]))
	}
	return sum / float64(len(want))
}
