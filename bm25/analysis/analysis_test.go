package analysis

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", nil},
		{"only punctuation", " ,.;-- !? ", nil},
		{"words and hyphens", "some-dashed-phrase dogs,chase,cats ac/dc", []string{"some", "dashed", "phrase", "dogs", "chase", "cats", "ac", "dc"}},
		{"apostrophes stay inside words", "O'Reilly you're she's don't O'Reilly's", []string{"O'Reilly", "you're", "she's", "don't", "O'Reilly's"}},
		{"acronym keeps inner dots only", "U.S.A. is", []string{"U.S.A", "is"}},
		{"numbers", "21.35 1,000 3.14.15 216.239.63.104", []string{"21.35", "1,000", "3.14.15", "216.239.63.104"}},
		{"alphanumerics", "R2D2 C3PO B2B 2B", []string{"R2D2", "C3PO", "B2B", "2B"}},
		{"phone number splits at hyphens", "1-800-555-1234", []string{"1", "800", "555", "1234"}},
		{"email and url", "test@example.com http://www.example.com", []string{"test", "example.com", "http", "www.example.com"}},
		{"colon is MidLetter", "foo:bar", []string{"foo:bar"}},
		{"underscores join", "__init__ a_b ___", []string{"__init__", "a_b"}},
		{"letter dot digit breaks", "a.1 1.a", []string{"a", "1", "1", "a"}},
		{"ideographs one by one", "日本語", []string{"日", "本", "語"}},
		{"hiragana one by one", "ひらがな", []string{"ひ", "ら", "が", "な"}},
		{"katakana run", "カタカナ", []string{"カタカナ"}},
		{"hangul run", "한국어", []string{"한국어"}},
		{"thai run", "ภาษาไทย abc", []string{"ภาษาไทย", "abc"}},
		{"emoji and flags", "I ❤ 😀 🇺🇸", []string{"I", "❤", "😀", "🇺🇸"}},
		{"copyright sign is an emoji token", "© 2012 Elsevier", []string{"©", "2012", "Elsevier"}},
		{"accents and combining marks", "naïve cafe\u0301", []string{"naïve", "cafe\u0301"}},
		{"greek and cyrillic", "αβγ Москва", []string{"αβγ", "Москва"}},
		{"superscript digits are not numbers", "x² 5³", []string{"x", "5"}},
		{"long token is cut", strings.Repeat("a", 300), []string{strings.Repeat("a", 255), strings.Repeat("a", 45)}},
		{"cut counts UTF-16 units", strings.Repeat("é", 256), []string{strings.Repeat("é", 255), "é"}},
		{"invalid UTF-8 breaks words", "ab\xffcd", []string{"ab", "cd"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Tokenize(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("Tokenize(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestStripPossessive(t *testing.T) {
	tests := []struct{ in, want string }{
		{"dog's", "dog"}, {"DOG'S", "DOG"}, {"dog’s", "dog"}, {"dog＇s", "dog"},
		{"dogs'", "dogs'"}, {"s", "s"}, {"'s", ""}, {"its", "its"}, {"O'Reilly", "O'Reilly"},
	}
	for _, tc := range tests {
		if got := stripPossessive(tc.in); got != tc.want {
			t.Errorf("stripPossessive(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLowerCase(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "abc"}, {"ABC", "abc"}, {"aBc1", "abc1"}, {"ÉCOLE", "école"}, {"ΑΒΓ", "αβγ"}, {"İ", "i"}, {"Σ", "σ"},
	}
	for _, tc := range tests {
		if got := lowerCase(tc.in); got != tc.want {
			t.Errorf("lowerCase(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEnglishStopWords(t *testing.T) {
	if len(EnglishStopWords) != 33 {
		t.Fatalf("%d stop words, Lucene has 33", len(EnglishStopWords))
	}
	a := English()
	for _, w := range EnglishStopWords {
		if got := a.Analyze(strings.ToUpper(w)); len(got) != 0 {
			t.Errorf("stop word %q analyzed to %q", w, got)
		}
	}
}

func TestEnglishAnalyzer(t *testing.T) {
	tests := []struct {
		name string
		a    *Analyzer
		in   string
		want []string
	}{
		{"stop words, possessive, stemming", English(), "The dog's bones are in the U.S.A. Relational databases!",
			[]string{"dog", "bone", "u.s.a", "relat", "databas"}},
		{"query repeats terms", English(), "cancer cancers CANCER", []string{"cancer", "cancer", "cancer"}},
		{"scientific text", English(), "0-dimensional biomaterials show inductive properties.",
			[]string{"0", "dimension", "biomateri", "show", "induct", "properti"}},
		{"no stemming keeps words", NewAnalyzer(EnglishStopWords, false), "Running the tests", []string{"running", "tests"}},
		{"no stop list keeps stop words", NewAnalyzer(nil, true), "to be or not", []string{"to", "be", "or", "not"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.Analyze(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("Analyze(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{"", "The U.S.A. isn't 3.14", "dog's Dog’S", "日本語 ภาษาไทย 😀🇺🇸", "ab\xffcd", strings.Repeat("x", 300), "İSTANBUL ΣΊΣΥΦΟΣ"} {
		f.Add(s)
	}
	a := English()
	f.Fuzz(func(t *testing.T, text string) {
		for _, tok := range Tokenize(text) {
			if tok == "" || !strings.Contains(text, tok) {
				t.Fatalf("token %q is empty or not a substring of the input", tok)
			}
		}
		for _, term := range a.Analyze(text) {
			if term == "" || !utf8.ValidString(term) {
				t.Fatalf("term %q is empty or not valid UTF-8", term)
			}
			if l := strings.Map(unicode.ToLower, term); l != term {
				t.Fatalf("term %q is not lower-case", term)
			}
		}
	})
}
