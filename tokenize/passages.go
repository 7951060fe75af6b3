package tokenize

import "fmt"

// Windows returns the [start, end) bounds of the passages that split a
// sequence of n tokens: windows of size tokens starting every stride tokens
// (stride < size overlaps them). The last window ends at the last token and
// may be shorter; a sequence of at most size tokens, the empty one
// included, is one window. stride <= size is required, so that every token
// is in some window.
func Windows(n, size, stride int) ([][2]int, error) {
	if size < 1 || stride < 1 || stride > size || n < 0 {
		return nil, fmt.Errorf("passages of %d tokens every %d: want 1 <= stride <= size", size, stride)
	}
	var out [][2]int
	for start := 0; ; start += stride {
		end := min(start+size, n)
		out = append(out, [2]int{start, end})
		if end == n {
			return out, nil
		}
	}
}

// EncodePassages splits a text longer than a model's input into passages,
// as splade encode --chunk does for MaxP retrieval: the Windows of its
// wordpieces, each returned as a model input with its own [CLS] and [SEP].
func (t *Tokenizer) EncodePassages(text string, size, stride int) ([][]int32, error) {
	pieces := t.TokenizeIDs(text)
	ws, err := Windows(len(pieces), size, stride)
	if err != nil {
		return nil, err
	}
	out := make([][]int32, len(ws))
	for i, w := range ws {
		p := make([]int32, 0, w[1]-w[0]+2)
		p = append(p, t.cls)
		p = append(p, pieces[w[0]:w[1]]...)
		out[i] = append(p, t.sep)
	}
	return out, nil
}
