package tokenize

import "fmt"

// EncodePassages splits a text longer than a model's input into passages,
// as splade encode --chunk does for MaxP retrieval: windows of size
// wordpieces starting every stride wordpieces (stride < size overlaps
// them), each returned as a model input with its own [CLS] and [SEP]. The
// last window ends at the text's last wordpiece and may be shorter; a text
// of at most size wordpieces, the empty text included, is one passage. So
// every wordpiece is in some passage when stride <= size, which is
// required.
func (t *Tokenizer) EncodePassages(text string, size, stride int) ([][]int32, error) {
	if size < 1 || stride < 1 || stride > size {
		return nil, fmt.Errorf("passages of %d wordpieces every %d: want 1 <= stride <= size", size, stride)
	}
	pieces := t.TokenizeIDs(text)
	var out [][]int32
	for start := 0; ; start += stride {
		end := min(start+size, len(pieces))
		p := make([]int32, 0, end-start+2)
		p = append(p, t.cls)
		p = append(p, pieces[start:end]...)
		out = append(out, append(p, t.sep))
		if end == len(pieces) {
			return out, nil
		}
	}
}
