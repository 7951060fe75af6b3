package analysis

import "unicode/utf16"

// Stem returns the Porter stem of a lower-case word, as Lucene's
// PorterStemFilter computes it: the algorithm of Porter (1980) with the two
// departures of Porter's own reference implementation that Lucene inherits
// ("bli" -> "ble" instead of "abli" -> "able", and "logi" -> "log"), and no
// change to words of one or two characters.
//
// Lucene stems UTF-16 code units and treats every unit other than a, e, i,
// o, u (and y after a vowel) as a consonant. Non-ASCII words are therefore
// stemmed over their UTF-16 form, so that measures and the cvc test count
// exactly what Lucene counts.
func Stem(word string) string {
	if isASCII(word) {
		b := []byte(word)
		n := porter(b)
		if n == len(word) && string(b[:n]) == word {
			return word
		}
		return string(b[:n])
	}
	u := utf16.Encode([]rune(word))
	n := porter(u)
	return string(utf16.Decode(u[:n]))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// unit is a code unit of the stemmer's buffer: bytes for ASCII words,
// UTF-16 units otherwise.
type unit interface{ ~byte | ~uint16 }

// stemmer holds the state of one stemming: b[0..k] is the current word and
// j marks the end of the stem before a suffix matched by ends.
type stemmer[T unit] struct {
	b    []T
	k, j int
}

// porter stems b in place and returns the new length. Suffixes only ever
// shrink or keep the length of a word (every replacement is no longer than
// the suffix it replaces, "at"->"ate" etc. only after removing "ed"/"ing"),
// so the buffer never grows.
func porter[T unit](b []T) int {
	if len(b) <= 2 {
		return len(b)
	}
	s := stemmer[T]{b: b, k: len(b) - 1}
	s.step1()
	s.step2()
	s.step3()
	s.step4()
	s.step5()
	s.step6()
	return s.k + 1
}

// cons reports whether b[i] is a consonant: not a vowel, and y only when
// it starts the word or follows a vowel.
func (s *stemmer[T]) cons(i int) bool {
	switch s.b[i] {
	case 'a', 'e', 'i', 'o', 'u':
		return false
	case 'y':
		return i == 0 || !s.cons(i-1)
	}
	return true
}

// m is Porter's measure of b[0..j]: the number of vowel-consonant
// sequences in [C](VC)^m[V].
func (s *stemmer[T]) m() int {
	n, i := 0, 0
	for ; i <= s.j && s.cons(i); i++ {
	}
	for i <= s.j {
		for ; i <= s.j && !s.cons(i); i++ {
		}
		if i > s.j {
			break
		}
		n++
		for ; i <= s.j && s.cons(i); i++ {
		}
	}
	return n
}

// vowelInStem reports whether b[0..j] contains a vowel.
func (s *stemmer[T]) vowelInStem() bool {
	for i := 0; i <= s.j; i++ {
		if !s.cons(i) {
			return true
		}
	}
	return false
}

// doubleC reports whether b[i-1], b[i] are the same consonant.
func (s *stemmer[T]) doubleC(i int) bool {
	return i >= 1 && s.b[i] == s.b[i-1] && s.cons(i)
}

// cvc reports whether b[i-2..i] is consonant-vowel-consonant with the last
// consonant not w, x or y (the short syllables of hop(e), but not snow).
func (s *stemmer[T]) cvc(i int) bool {
	if i < 2 || !s.cons(i) || s.cons(i-1) || !s.cons(i-2) {
		return false
	}
	c := s.b[i]
	return c != 'w' && c != 'x' && c != 'y'
}

// ends reports whether b[0..k] ends with suffix and, if so, sets j to the
// end of the stem before it.
func (s *stemmer[T]) ends(suffix string) bool {
	o := s.k - len(suffix) + 1
	if o < 0 {
		return false
	}
	for i := 0; i < len(suffix); i++ {
		if s.b[o+i] != T(suffix[i]) {
			return false
		}
	}
	s.j = s.k - len(suffix)
	return true
}

// setTo replaces b[j+1..k] by r.
func (s *stemmer[T]) setTo(r string) {
	for i := 0; i < len(r); i++ {
		s.b[s.j+1+i] = T(r[i])
	}
	s.k = s.j + len(r)
}

// replace replaces the suffix by r when the stem has measure > 0.
func (s *stemmer[T]) replace(r string) {
	if s.m() > 0 {
		s.setTo(r)
	}
}

// step1 removes plurals and -ed or -ing (caresses -> caress, ponies ->
// poni, agreed -> agree, hopping -> hop, hoping -> hope).
func (s *stemmer[T]) step1() {
	if s.b[s.k] == 's' {
		switch {
		case s.ends("sses"):
			s.k -= 2
		case s.ends("ies"):
			s.setTo("i")
		case s.b[s.k-1] != 's':
			s.k--
		}
	}
	if s.ends("eed") {
		if s.m() > 0 {
			s.k--
		}
		return
	}
	if (s.ends("ed") || s.ends("ing")) && s.vowelInStem() {
		s.k = s.j
		switch {
		case s.ends("at"):
			s.setTo("ate")
		case s.ends("bl"):
			s.setTo("ble")
		case s.ends("iz"):
			s.setTo("ize")
		case s.doubleC(s.k):
			if c := s.b[s.k]; c != 'l' && c != 's' && c != 'z' {
				s.k--
			}
		default:
			s.j = s.k
			if s.m() == 1 && s.cvc(s.k) {
				s.setTo("e")
			}
		}
	}
}

// step2 turns a terminal y into i when the stem has a vowel (happy -> happi).
func (s *stemmer[T]) step2() {
	if s.ends("y") && s.vowelInStem() {
		s.b[s.k] = 'i'
	}
}

// suffixRule maps a suffix to its replacement.
type suffixRule struct{ suffix, repl string }

// step3Rules are Porter's step 2 double suffixes, keyed by the penultimate
// letter of the suffix as in the reference implementation (the first rule
// whose suffix matches decides, even when its measure test fails).
var step3Rules = [128][]suffixRule{
	'a': {{"ational", "ate"}, {"tional", "tion"}},
	'c': {{"enci", "ence"}, {"anci", "ance"}},
	'e': {{"izer", "ize"}},
	'l': {{"bli", "ble"}, {"alli", "al"}, {"entli", "ent"}, {"eli", "e"}, {"ousli", "ous"}},
	'o': {{"ization", "ize"}, {"ation", "ate"}, {"ator", "ate"}},
	's': {{"alism", "al"}, {"iveness", "ive"}, {"fulness", "ful"}, {"ousness", "ous"}},
	't': {{"aliti", "al"}, {"iviti", "ive"}, {"biliti", "ble"}},
	'g': {{"logi", "log"}},
}

// step4Rules are Porter's step 3 (-ic-, -full, -ness), keyed by the last
// letter.
var step4Rules = [128][]suffixRule{
	'e': {{"icate", "ic"}, {"ative", ""}, {"alize", "al"}},
	'i': {{"iciti", "ic"}},
	'l': {{"ical", "ic"}, {"ful", ""}},
	's': {{"ness", ""}},
}

func (s *stemmer[T]) applyRules(rules []suffixRule) {
	for _, r := range rules {
		if s.ends(r.suffix) {
			s.replace(r.repl)
			return
		}
	}
}

// step3 maps double suffixes to single ones (-ization -> -ize).
func (s *stemmer[T]) step3() {
	if s.k == 0 {
		return
	}
	if c := s.b[s.k-1]; c < 0x80 {
		s.applyRules(step3Rules[byte(c)])
	}
}

// step4 handles -ic-, -full, -ness.
func (s *stemmer[T]) step4() {
	if c := s.b[s.k]; c < 0x80 {
		s.applyRules(step4Rules[byte(c)])
	}
}

// step5Suffixes are Porter's step 4 suffixes removed when the measure of
// the stem exceeds 1, keyed by the penultimate letter; "ion" additionally
// needs s or t before it.
var step5Suffixes = [128][]string{
	'a': {"al"},
	'c': {"ance", "ence"},
	'e': {"er"},
	'i': {"ic"},
	'l': {"able", "ible"},
	'n': {"ant", "ement", "ment", "ent"},
	'o': {"ion", "ou"},
	's': {"ism"},
	't': {"ate", "iti"},
	'u': {"ous"},
	'v': {"ive"},
	'z': {"ize"},
}

// step5 takes off -ant, -ence etc. in context <c>vcvc<v>.
func (s *stemmer[T]) step5() {
	if s.k == 0 {
		return
	}
	c := s.b[s.k-1]
	if c >= 0x80 {
		return
	}
	matched := false
	for _, suf := range step5Suffixes[byte(c)] {
		if !s.ends(suf) {
			continue
		}
		if suf == "ion" && (s.j < 0 || (s.b[s.j] != 's' && s.b[s.j] != 't')) {
			continue
		}
		matched = true
		break
	}
	if matched && s.m() > 1 {
		s.k = s.j
	}
}

// step6 removes a final -e when the measure exceeds 1 (or is 1 without a
// short syllable before it) and reduces a final -ll when the measure
// exceeds 1.
func (s *stemmer[T]) step6() {
	s.j = s.k
	if s.b[s.k] == 'e' {
		if a := s.m(); a > 1 || a == 1 && !s.cvc(s.k-1) {
			s.k--
		}
	}
	if s.b[s.k] == 'l' && s.doubleC(s.k) && s.m() > 1 {
		s.k--
	}
}
