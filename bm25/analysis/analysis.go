// Package analysis turns English text into the index terms of Anserini's
// DefaultEnglishAnalyzer, the analyzer behind every published Anserini BM25
// baseline: Lucene's StandardTokenizer, EnglishPossessiveFilter,
// LowerCaseFilter, StopFilter with Lucene's 33 English stop words, and
// PorterStemFilter, in that order.
//
// Why reproduce Lucene rather than write a simpler analyzer: BM25 numbers
// (and the hard negatives mined with BM25 for SPLADE training) are only
// comparable with the literature when documents and queries become the very
// same terms. Small differences (keeping "U.S.A" whole, splitting at
// hyphens, stemming "relational" to "relat") move nDCG by whole points.
//
// The tokenizer follows Lucene's grammar, which implements the word
// boundaries of Unicode UAX#29; the segmentation itself comes from
// github.com/rivo/uniseg and this package keeps the segments Lucene keeps.
// Known approximations, none of which occur in English scientific text:
// uniseg implements a newer Unicode version than Lucene 9 (Unicode 9 with
// Unicode 11 emoji data), and the scripts kept together as South-East Asian
// runs are chosen by script rather than by the Line_Break property.
package analysis

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// MaxTokenLength is Lucene's StandardTokenizer default: longer tokens are
// cut into pieces of at most this many UTF-16 code units, and scanning
// resumes after the cut.
const MaxTokenLength = 255

// EnglishStopWords is Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET, the
// stop list of Anserini's default analyzer.
var EnglishStopWords = []string{
	"a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
	"no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
	"they", "this", "to", "was", "will", "with",
}

// Analyzer is a configured analysis chain. It holds no mutable state, so
// one Analyzer may be used from many goroutines.
type Analyzer struct {
	stop map[string]bool
	stem bool
}

// English returns Anserini's default English analyzer: possessives
// stripped, lower-cased, stop words removed, Porter-stemmed.
func English() *Analyzer { return NewAnalyzer(EnglishStopWords, true) }

// NewAnalyzer returns the same chain with another stop list (nil keeps
// every token, as Anserini's -keepStopwords) and stemming on or off.
func NewAnalyzer(stopWords []string, stem bool) *Analyzer {
	a := &Analyzer{stop: make(map[string]bool, len(stopWords)), stem: stem}
	for _, w := range stopWords {
		a.stop[w] = true
	}
	return a
}

// Analyze returns the terms of text in order; a term repeated in the text
// is repeated here.
func (a *Analyzer) Analyze(text string) []string { return a.AppendTerms(nil, text) }

// AppendTerms appends the terms of text to dst and returns the result.
func (a *Analyzer) AppendTerms(dst []string, text string) []string {
	var t Tokenizer
	t.Reset(text)
	for {
		tok, ok := t.Next()
		if !ok {
			return dst
		}
		tok = strings.ToValidUTF8(tok, "\uFFFD")
		tok = lowerCase(stripPossessive(tok))
		if a.stop[tok] {
			continue
		}
		if a.stem {
			tok = Stem(tok)
		}
		dst = append(dst, tok)
	}
}

// Tokenize returns the tokens of Lucene's StandardTokenizer, unchanged in
// case.
func Tokenize(text string) []string {
	var out []string
	var t Tokenizer
	t.Reset(text)
	for {
		tok, ok := t.Next()
		if !ok {
			return out
		}
		out = append(out, tok)
	}
}

// stripPossessive is Lucene's EnglishPossessiveFilter: a trailing 's or 'S
// is removed, with the apostrophe written as U+0027, U+2019 or U+FF07.
func stripPossessive(tok string) string {
	n := len(tok)
	if n < 2 || (tok[n-1] != 's' && tok[n-1] != 'S') {
		return tok
	}
	switch {
	case tok[n-2] == '\'':
		return tok[:n-2]
	case strings.HasSuffix(tok[:n-1], "\u2019"):
		return tok[:n-1-len("\u2019")]
	case strings.HasSuffix(tok[:n-1], "\uFF07"):
		return tok[:n-1-len("\uFF07")]
	}
	return tok
}

// lowerCase is Lucene's LowerCaseFilter: each code point mapped by its
// simple lower-case mapping (Java's Character.toLowerCase).
func lowerCase(tok string) string {
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c >= 0x80 {
			return strings.Map(unicode.ToLower, tok)
		}
		if 'A' <= c && c <= 'Z' {
			b := []byte(tok)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 0x80 {
					return strings.Map(unicode.ToLower, tok)
				} else if 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return tok
}

// Tokenizer yields the tokens of Lucene's StandardTokenizer one by one
// without allocating: each token is a substring of the input.
type Tokenizer struct {
	text  string
	pos   int // byte offset of the rest to segment
	state int // uniseg state; -1 at a fresh start
	// slow disables the ASCII fast path (for testing it against uniseg).
	slow bool
}

// Reset starts tokenizing text.
func (t *Tokenizer) Reset(text string) { *t = Tokenizer{text: text, state: -1} }

// segment kinds, after Lucene's token types
const (
	kindNone  = iota // punctuation, space, symbols: not a token
	kindWord         // ALPHANUM, NUM, HANGUL, KATAKANA, IDEOGRAPHIC, HIRAGANA
	kindSEA          // SOUTHEAST_ASIAN: consecutive segments join
	kindEmoji        // EMOJI
)

// Next returns the next token, or false at the end of the text.
func (t *Tokenizer) Next() (string, bool) {
	for t.pos < len(t.text) {
		start := t.pos
		if !t.slow && t.text[start] < utf8.RuneSelf {
			if end, token, ok := asciiSegment(t.text, start); ok {
				t.pos, t.state = end, -1
				if !token {
					continue
				}
				if end-start > MaxTokenLength {
					t.pos = start + MaxTokenLength
				}
				return t.text[start:t.pos], true
			}
		}
		seg, _, state := uniseg.FirstWordInString(t.text[start:], t.state)
		t.state = state
		t.pos += len(seg)
		kind := classify(seg)
		if kind == kindNone {
			continue
		}
		if kind == kindSEA {
			// Lucene keeps runs of South-East Asian letters together,
			// where UAX#29 breaks after every letter.
			for t.pos < len(t.text) {
				next, _, st := uniseg.FirstWordInString(t.text[t.pos:], t.state)
				if classify(next) != kindSEA {
					break
				}
				t.state = st
				t.pos += len(next)
			}
		}
		tok := t.text[start:t.pos]
		if cut := cutAt(tok, MaxTokenLength); cut < len(tok) {
			// Lucene's scanner buffer holds MaxTokenLength units: the
			// token is cut there and scanning starts afresh after it.
			tok = tok[:cut]
			t.pos = start + cut
			t.state = -1
		}
		return tok, true
	}
	return "", false
}

// ASCII word-break classes of UAX#29.
const (
	asciiOther   = iota
	asciiLetter  // ALetter
	asciiDigit   // Numeric
	asciiExtend  // ExtendNumLet: _
	asciiMidLet  // MidLetter: colon
	asciiMidNum  // MidNum: comma, semicolon
	asciiMidBoth // MidNumLet and Single_Quote: full stop, apostrophe
)

var asciiClass = func() (c [128]uint8) {
	for b := 'a'; b <= 'z'; b++ {
		c[b], c[b-'a'+'A'] = asciiLetter, asciiLetter
	}
	for b := '0'; b <= '9'; b++ {
		c[b] = asciiDigit
	}
	c['_'], c[':'], c[','], c[';'], c['.'], c['\''] = asciiExtend, asciiMidLet, asciiMidNum, asciiMidNum, asciiMidBoth, asciiMidBoth
	return c
}()

// asciiSegment applies the word-break rules to the UAX#29 segment starting
// at the ASCII byte text[pos], as long as its extent is decided by ASCII
// alone: it returns the segment's end and whether Lucene keeps it as a
// token, or ok=false when a non-ASCII character could join the segment
// (combining marks, letters after an apostrophe, ...), which uniseg then
// decides. Most English text never leaves this path.
func asciiSegment(text string, pos int) (end int, token, ok bool) {
	prev := asciiClass[text[pos]]
	if prev != asciiLetter && prev != asciiDigit && prev != asciiExtend {
		// Punctuation, space, symbols: a segment of one byte, unless a
		// combining mark follows, which changes nothing for tokens.
		return pos + 1, false, true
	}
	token = prev != asciiExtend
	i := pos + 1
	for ; i < len(text); i++ {
		c := text[i]
		if c >= utf8.RuneSelf {
			return 0, false, false
		}
		cls := asciiClass[c]
		switch cls {
		case asciiLetter, asciiDigit:
			token = true // WB5, WB8, WB9, WB10, WB13b
		case asciiExtend: // WB13a
		case asciiMidLet, asciiMidNum, asciiMidBoth:
			// WB6/7 (letter mid letter) and WB11/12 (digit mid digit)
			if i+1 >= len(text) {
				return i, token, true
			}
			next := text[i+1]
			if next >= utf8.RuneSelf {
				return 0, false, false
			}
			nc := asciiClass[next]
			joins := prev == asciiLetter && nc == asciiLetter && cls != asciiMidNum ||
				prev == asciiDigit && nc == asciiDigit && cls != asciiMidLet
			if !joins {
				return i, token, true
			}
			i++
			cls = nc
		default:
			return i, token, true
		}
		prev = cls
	}
	return i, token, true
}

// cutAt returns the byte length of the longest prefix of s that has at
// most max UTF-16 code units.
func cutAt(s string, max int) int {
	if len(s) <= max {
		return len(s) // every code point takes at least as many bytes as units
	}
	units := 0
	for i, r := range s {
		n := utf16.RuneLen(r)
		if n < 0 {
			n = 1 // invalid UTF-8 decodes to U+FFFD
		}
		if units+n > max {
			return i
		}
		units += n
	}
	return len(s)
}

// classify decides what Lucene makes of one UAX#29 segment.
func classify(seg string) int {
	kind := kindNone
	regional := 0
	for _, r := range seg {
		switch {
		case r < 0x80:
			if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
				return kindWord
			}
		case isSEA(r):
			kind = kindSEA
		case unicode.IsLetter(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Nl, r) ||
			unicode.Is(unicode.So, r) && unicode.Is(unicode.Other_Alphabetic, r):
			return kindWord
		case 0x1F1E6 <= r && r <= 0x1F1FF:
			regional++
		case kind == kindNone && isEmoji(r):
			kind = kindEmoji
		}
	}
	if kind == kindNone && regional >= 2 {
		return kindEmoji // a flag: a pair of regional indicators
	}
	return kind
}

// isSEA reports whether r is a letter or mark of a script whose words
// UAX#29 leaves to dictionaries (Line_Break=Complex_Context), which Lucene
// keeps together as one SOUTHEAST_ASIAN token.
func isSEA(r rune) bool {
	if r < 0x0E00 || !(unicode.IsLetter(r) || unicode.IsMark(r)) {
		return false
	}
	return unicode.In(r, unicode.Thai, unicode.Lao, unicode.Myanmar, unicode.Khmer,
		unicode.Tai_Le, unicode.New_Tai_Lue, unicode.Tai_Tham, unicode.Tai_Viet)
}

// isEmoji reports whether r starts an emoji token in Lucene's grammar:
// Extended_Pictographic (Unicode 11 emoji data) or an emoji modifier.
func isEmoji(r rune) bool {
	if r < 0xA9 {
		return false
	}
	lo, hi := 0, len(pictographic)
	for lo < hi {
		m := (lo + hi) / 2
		switch {
		case r < pictographic[m][0]:
			hi = m
		case r > pictographic[m][1]:
			lo = m + 1
		default:
			return true
		}
	}
	return false
}

// pictographic lists the Extended_Pictographic ranges of Unicode 11's
// emoji-data.txt, plus the emoji modifiers U+1F3FB..U+1F3FF.
var pictographic = [][2]rune{
	{0x00A9, 0x00A9}, {0x00AE, 0x00AE}, {0x203C, 0x203C}, {0x2049, 0x2049}, {0x2122, 0x2122},
	{0x2139, 0x2139}, {0x2194, 0x2199}, {0x21A9, 0x21AA}, {0x231A, 0x231B}, {0x2328, 0x2328},
	{0x2388, 0x2388}, {0x23CF, 0x23CF}, {0x23E9, 0x23F3}, {0x23F8, 0x23FA}, {0x24C2, 0x24C2},
	{0x25AA, 0x25AB}, {0x25B6, 0x25B6}, {0x25C0, 0x25C0}, {0x25FB, 0x25FE}, {0x2600, 0x2605},
	{0x2607, 0x2612}, {0x2614, 0x2685}, {0x2690, 0x2705}, {0x2708, 0x2712}, {0x2714, 0x2714},
	{0x2716, 0x2716}, {0x271D, 0x271D}, {0x2721, 0x2721}, {0x2728, 0x2728}, {0x2733, 0x2734},
	{0x2744, 0x2744}, {0x2747, 0x2747}, {0x274C, 0x274C}, {0x274E, 0x274E}, {0x2753, 0x2755},
	{0x2757, 0x2757}, {0x2763, 0x2767}, {0x2795, 0x2797}, {0x27A1, 0x27A1}, {0x27B0, 0x27B0},
	{0x27BF, 0x27BF}, {0x2934, 0x2935}, {0x2B05, 0x2B07}, {0x2B1B, 0x2B1C}, {0x2B50, 0x2B50},
	{0x2B55, 0x2B55}, {0x3030, 0x3030}, {0x303D, 0x303D}, {0x3297, 0x3297}, {0x3299, 0x3299},
	{0x1F000, 0x1F0FF}, {0x1F10D, 0x1F10F}, {0x1F12F, 0x1F12F}, {0x1F16C, 0x1F171},
	{0x1F17E, 0x1F17F}, {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F1AD, 0x1F1E5},
	{0x1F201, 0x1F20F}, {0x1F21A, 0x1F21A}, {0x1F22F, 0x1F22F}, {0x1F232, 0x1F23A},
	{0x1F23C, 0x1F23F}, {0x1F249, 0x1F3FF}, {0x1F400, 0x1F53D}, {0x1F546, 0x1F64F},
	{0x1F680, 0x1F6FF}, {0x1F774, 0x1F77F}, {0x1F7D5, 0x1F7FF}, {0x1F80C, 0x1F80F},
	{0x1F848, 0x1F84F}, {0x1F85A, 0x1F85F}, {0x1F888, 0x1F88F}, {0x1F8AE, 0x1F8FF},
	{0x1F90C, 0x1F93A}, {0x1F93C, 0x1F945}, {0x1F947, 0x1FAFF}, {0x1FC00, 0x1FFFD},
}
