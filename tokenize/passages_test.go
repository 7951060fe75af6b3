package tokenize

import (
	"slices"
	"strings"
	"testing"
)

// TestEncodePassages: windows cover every wordpiece in order, start every
// stride pieces, hold at most size pieces, and stop at the text's end.
func TestEncodePassages(t *testing.T) {
	vocab := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
	var words []string
	for _, c := range "abcdefghijklmnopqrstuvwxyz" {
		vocab = append(vocab, string(c))
		words = append(words, string(c))
	}
	tok, err := New(vocab, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n <= len(words); n++ {
		text := strings.Join(words[:n], " ")
		all := tok.TokenizeIDs(text)
		for size := 1; size <= 8; size++ {
			for stride := 1; stride <= size; stride++ {
				ps, err := tok.EncodePassages(text, size, stride)
				if err != nil {
					t.Fatal(err)
				}
				covered := make([]bool, n)
				for i, p := range ps {
					if p[0] != tok.CLSID() || p[len(p)-1] != tok.SEPID() || len(p)-2 > size || (len(p) == 2 && n > 0) {
						t.Fatalf("n=%d size=%d stride=%d passage %d: %v", n, size, stride, i, p)
					}
					start := i * stride
					if !slices.Equal(p[1:len(p)-1], all[start:start+len(p)-2]) {
						t.Fatalf("n=%d size=%d stride=%d passage %d = %v, not the window at %d", n, size, stride, i, p, start)
					}
					for j := start; j < start+len(p)-2; j++ {
						covered[j] = true
					}
					last := start+len(p)-2 == n
					if last != (i == len(ps)-1) {
						t.Fatalf("n=%d size=%d stride=%d: passage %d of %d ends at %d", n, size, stride, i, len(ps), start+len(p)-2)
					}
				}
				if slices.Contains(covered, false) {
					t.Fatalf("n=%d size=%d stride=%d: wordpieces left out", n, size, stride)
				}
				if n <= size && len(ps) != 1 {
					t.Fatalf("n=%d size=%d: %d passages for a short text", n, size, len(ps))
				}
			}
		}
	}
	for _, bad := range [][2]int{{0, 1}, {4, 0}, {4, 5}} {
		if _, err := tok.EncodePassages("a b", bad[0], bad[1]); err == nil {
			t.Errorf("size %d stride %d accepted", bad[0], bad[1])
		}
	}
}
