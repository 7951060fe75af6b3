package tokenize

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// mapWordPiece is a direct transcription of the WordPiece algorithm of
// Hugging Face (BERT's WordpieceTokenizer): for each position, try the
// remaining text, then shorter and shorter prefixes of it (on character
// boundaries) in the vocabulary map. It is the oracle for the trie-based
// matcher and the baseline of BenchmarkWordPiece.
func mapWordPiece(dst []int32, ids map[string]int32, unk int32, maxChars int, word []byte) []int32 {
	if utf8.RuneCount(word) > maxChars {
		return append(dst, unk)
	}
	first := len(dst)
	var buf []byte
	for start := 0; start < len(word); {
		end := len(word)
		found := false
		for end > start {
			buf = buf[:0]
			if start > 0 {
				buf = append(buf, ContinuationPrefix...)
			}
			buf = append(buf, word[start:end]...)
			if id, ok := ids[string(buf)]; ok {
				dst = append(dst, id)
				found = true
				break
			}
			_, size := utf8.DecodeLastRune(word[start:end])
			end -= size
		}
		if !found {
			return append(dst[:first], unk)
		}
		start = end
	}
	return dst
}

func TestTrieMatchesMapWordPiece(t *testing.T) {
	vocab := append(slices.Clone(smallVocab), "##", "##a##", "ü", "##ü", "\xff", "##\xc3")
	tok := mustNew(t, vocab, DefaultOptions())
	for _, w := range []string{"unwanted", "running", "aaaa", "aü", "üa", "a##a", "\xffa", "a\xc3\xbc", "lowest", "lowes", "x", "", "ah"} {
		got := tok.appendWordPieces(nil, []byte(w))
		want := mapWordPiece(nil, tok.ids, tok.unk, tok.maxChars, []byte(w))
		if !slices.Equal(got, want) {
			t.Errorf("%q: trie %v, map %v", w, got, want)
		}
	}
}

// FuzzWordPiece compares the trie matcher with the map transcription on
// arbitrary words and small arbitrary vocabularies.
func FuzzWordPiece(f *testing.F) {
	f.Add("un\n##want\n##ed\nrunn\n##ing", "unwanted")
	f.Add("a\n##a\n##\n##aa", "aaaaa")
	f.Add("\xc3\n##\xbc\nü", "üü\xc3")
	f.Fuzz(func(t *testing.T, vocabText, word string) {
		vocab := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]"}
		for _, v := range strings.Split(vocabText, "\n") {
			if v != "" && !slices.Contains(vocab, v) {
				vocab = append(vocab, v)
			}
		}
		// Normalization drops invalid UTF-8 (HF tokenizes Python strings,
		// which cannot hold it), so WordPiece only ever sees valid words; on
		// invalid bytes the byte trie and the rune-wise transcription may
		// legitimately differ.
		if !utf8.ValidString(word) {
			t.Skip("invalid UTF-8 never reaches WordPiece")
		}
		tok := mustNew(t, vocab, Options{MaxInputCharsPerWord: 20})
		got := tok.appendWordPieces(nil, []byte(word))
		want := mapWordPiece(nil, tok.ids, tok.unk, tok.maxChars, []byte(word))
		if !slices.Equal(got, want) {
			t.Fatalf("vocab %q word %q: trie %v, map %v", vocab, word, got, want)
		}
	})
}

// BenchmarkWordPiece compares the trie matcher with the map transcription
// on the normalized words of the benchmark texts.
func BenchmarkWordPiece(b *testing.B) {
	tok, texts, _ := benchSetup(b)
	var words [][]byte
	var n int64
	for _, s := range texts {
		norm := tok.normalize(nil, s, new(scratch))
		for _, w := range strings.Fields(string(norm)) {
			words = append(words, []byte(w))
			n += int64(len(w))
		}
	}
	var dst []int32
	b.Run("trie", func(b *testing.B) {
		b.SetBytes(n)
		for b.Loop() {
			for _, w := range words {
				dst = tok.appendWordPieces(dst[:0], w)
			}
		}
	})
	b.Run("map", func(b *testing.B) {
		b.SetBytes(n)
		for b.Loop() {
			for _, w := range words {
				dst = mapWordPiece(dst[:0], tok.ids, tok.unk, tok.maxChars, w)
			}
		}
	})
}
