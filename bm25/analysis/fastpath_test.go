package analysis

import (
	"errors"
	"io"
	"path/filepath"
	"slices"
	"testing"

	"github.com/splade-go/splade/corpus"
	"github.com/splade-go/splade/internal/shareddata"
)

func tokenizeWith(text string, slow bool) []string {
	var out []string
	t := Tokenizer{text: text, state: -1, slow: slow}
	for {
		tok, ok := t.Next()
		if !ok {
			return out
		}
		out = append(out, tok)
	}
}

// TestASCIIFastPath checks the ASCII shortcut against uniseg's
// segmentation on tricky input and on every SciFact document.
func TestASCIIFastPath(t *testing.T) {
	texts := []string{
		"a.b a..b a.1 1.a 1.2.3 1,2 a,b a:b 1:2 a;b 1;2 a'b 1'2 a' 'a a_ _a __ _1_ a_.b",
		"end with mid a. 1, x: y;", "U.S.A. don't e-mail R2-D2 3.14e10 x=1 #tag @user",
		"mixed naïve a'é é'a a.é 1.٣ café\u0301 x\u200dy",
	}
	if dir := shareddata.Path("beir/scifact"); dir != "" {
		r, err := corpus.Open(filepath.Join(dir, "corpus.jsonl.gz"))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for {
			d, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			texts = append(texts, d.Contents())
		}
	}
	for _, text := range texts {
		fast, slow := tokenizeWith(text, false), tokenizeWith(text, true)
		if !slices.Equal(fast, slow) {
			for i := range min(len(fast), len(slow)) {
				if fast[i] != slow[i] {
					t.Fatalf("token %d: fast path %q, uniseg %q in %q", i, fast[i], slow[i], text)
				}
			}
			t.Fatalf("fast path %d tokens, uniseg %d in %q", len(fast), len(slow), text)
		}
	}
	t.Logf("%d texts agree", len(texts))
}

// FuzzASCIIFastPath compares the shortcut with uniseg on ASCII text, where
// the shortcut decides every segment by itself.
func FuzzASCIIFastPath(f *testing.F) {
	for _, s := range []string{"a.b 1,2 a:b", "x'y'z _a_ 1.a", "..,,;;''__", "U.S.A. 3.14"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		for i := range b {
			b[i] &= 0x7f
		}
		text := string(b)
		if fast, slow := tokenizeWith(text, false), tokenizeWith(text, true); !slices.Equal(fast, slow) {
			t.Fatalf("%q: fast path %q, uniseg %q", text, fast, slow)
		}
	})
}
