package tokenize

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalize appends the BertNormalizer form of seg to dst: clean text,
// space out CJK ideographs, strip accents, lower-case.
//
// ASCII text, the bulk of most corpora, takes a byte loop. A chunk holding
// other characters, from the ASCII whitespace before it to the one after,
// takes the full Unicode path. Cutting at ASCII whitespace is exact: the
// steps are per character except NFD, and NFD only reorders runs of
// combining marks, which a whitespace character (a starter) ends.
func (t *Tokenizer) normalize(dst []byte, seg string, s *scratch) []byte {
	chunk := 0 // start of the current whitespace-delimited chunk in seg
	chunkOut := len(dst)
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c >= utf8.RuneSelf {
			end := i + 1
			for end < len(seg) && !isASCIIBreak(seg[end]) {
				end++
			}
			dst = t.normalizeUnicode(dst[:chunkOut], seg[chunk:end], s)
			i = end - 1
			continue
		}
		if isASCIIBreak(c) {
			chunk, chunkOut = i+1, len(dst)+1
		}
		if t.clean {
			if isASCIIControl(c) {
				continue
			}
			if c == '\t' || c == '\n' || c == '\r' {
				c = ' '
			}
		}
		if t.opts.Lowercase && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// isASCIIBreak reports the ASCII whitespace at which normalize may cut the
// text into independently normalized chunks.
func isASCIIBreak(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// normalizeUnicode is normalize for text with non-ASCII characters.
func (t *Tokenizer) normalizeUnicode(dst []byte, seg string, s *scratch) []byte {
	// Clean text and space out CJK ideographs, into s.b. Invalid UTF-8
	// decodes as U+FFFD, which cleaning drops.
	b := s.b[:0]
	for _, r := range seg {
		if t.clean {
			if r == 0 || r == utf8.RuneError || isOther(r) {
				continue
			}
			if unicode.IsSpace(r) {
				r = ' '
			}
		}
		if t.opts.TokenizeChineseChars && isCJKIdeograph(r) {
			b = append(b, ' ')
			b = utf8.AppendRune(b, r)
			b = append(b, ' ')
			continue
		}
		b = utf8.AppendRune(b, r)
	}
	s.b = b
	if t.strip {
		s.c = norm.NFD.Append(s.c[:0], b...)
		b = s.c
	}
	// Drop nonspacing marks and lower-case, rune by rune, in the order of
	// Hugging Face's BertNormalizer: strip accents, then lower-case.
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		i += size
		if t.strip && unicode.Is(unicode.Mn, r) {
			continue
		}
		if t.opts.Lowercase {
			dst = appendLower(dst, r)
			continue
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// appendLower appends the full lower-case mapping of r. Only U+0130 (capital
// I with dot above) lower-cases to two characters; every other character
// maps to one, which unicode.ToLower gives.
func appendLower(dst []byte, r rune) []byte {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(dst, byte(r))
	}
	if r == 0x130 {
		return append(dst, "i\u0307"...)
	}
	return utf8.AppendRune(dst, unicode.ToLower(r))
}

// isASCIIControl reports the ASCII characters that cleaning removes: the C0
// controls except tab, newline and carriage return, and DEL.
func isASCIIControl(c byte) bool {
	return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f
}

// isOther reports the characters that cleaning removes: Unicode general
// category C ("other": Cc, Cf, Co, Cs and unassigned Cn) except \t \n \r,
// as Hugging Face's is_control does.
func isOther(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	if r < utf8.RuneSelf {
		return isASCIIControl(byte(r))
	}
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) {
		return true
	}
	// Unassigned (Cn): in no other category.
	return !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z)
}

// isCJKIdeograph reports the code points of the CJK Unified Ideographs
// blocks and extensions A-E and the compatibility ideographs, the ranges
// BERT's _is_chinese_char uses. Hangul and kana are not among them.
func isCJKIdeograph(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) ||
		(r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) ||
		(r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) ||
		(r >= 0x2B820 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) ||
		(r >= 0x2F800 && r <= 0x2FA1F)
}

// asciiClass classifies ASCII bytes for pre-tokenization.
var asciiClass = func() (c [utf8.RuneSelf]uint8) {
	for _, s := range "\t\n\v\f\r " {
		c[s] = classSpace
	}
	for b := 33; b < 127; b++ {
		if (b >= 33 && b <= 47) || (b >= 58 && b <= 64) || (b >= 91 && b <= 96) || (b >= 123 && b <= 126) {
			c[b] = classPunct
		}
	}
	return c
}()

const (
	classWord = iota
	classSpace
	classPunct
)

// appendWords pre-tokenizes normalized text as BertPreTokenizer does (split
// on whitespace, each punctuation character a word of its own) and appends
// the wordpieces of each word to dst. It stops once more than limit pieces
// follow base (limit < 0: never); the caller trims the excess.
func (t *Tokenizer) appendWords(dst []int32, text []byte, base, limit int) []int32 {
	start := -1 // start of the current word, -1 between words
	for i := 0; i < len(text); {
		if limit >= 0 && len(dst)-base >= limit {
			return dst
		}
		class, size := classWord, 1
		if c := text[i]; c < utf8.RuneSelf {
			class = int(asciiClass[c])
		} else {
			var r rune
			r, size = utf8.DecodeRune(text[i:])
			switch {
			case unicode.IsSpace(r):
				class = classSpace
			case unicode.IsPunct(r):
				class = classPunct
			}
		}
		if class == classWord {
			if start < 0 {
				start = i
			}
			i += size
			continue
		}
		if start >= 0 {
			dst = t.appendWordPieces(dst, text[start:i])
			start = -1
		}
		if class == classPunct {
			dst = t.appendWordPieces(dst, text[i:i+size])
		}
		i += size
	}
	if start >= 0 {
		dst = t.appendWordPieces(dst, text[start:])
	}
	return dst
}
