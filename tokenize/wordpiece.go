package tokenize

import "unicode/utf8"

// appendWordPieces appends the WordPiece ids of one pre-tokenized word:
// greedy longest-match-first from the left, every piece after the first
// looked up as a "##" continuation. A word longer than the character limit,
// or with a part no piece matches, becomes a single [UNK].
//
// Most words, and most remainders after a first piece, are vocabulary
// entries themselves, so the whole remainder is looked up first, in one map
// probe. Otherwise the longest match is found by one walk down the
// vocabulary trie (from its root, or from the "##" node for continuations)
// instead of probing shorter and shorter substrings.
func (t *Tokenizer) appendWordPieces(dst []int32, word []byte) []int32 {
	if len(word) > t.maxChars && utf8.RuneCount(word) > t.maxChars {
		return append(dst, t.unk)
	}
	first := len(dst)
	root := uint32(0)
	for start := 0; start < len(word); {
		whole := t.ids
		if start > 0 {
			whole = t.cont
		}
		// string(word[start:]) in a map index does not allocate.
		if id, ok := whole[string(word[start:])]; ok {
			return append(dst, id)
		}
		end, id := -1, int32(0)
		if start == 0 || t.contRoot >= 0 {
			end, id = t.trie.longest(root, word, start)
		}
		if end < 0 {
			return append(dst[:first], t.unk)
		}
		dst = append(dst, id)
		start = end
		root = uint32(t.contRoot)
	}
	return dst
}
