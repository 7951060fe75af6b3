package tokenize

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/splade-go/splade/internal/shareddata"
)

var (
	fuzzOnce       sync.Once
	fuzzTokenizers []*Tokenizer
)

// fuzzSet returns the tokenizers the fuzz target checks: the toy vocabulary
// uncased, cased and without cleaning, plus bert-base-uncased when the shared
// data is present.
func fuzzSet(t testing.TB) []*Tokenizer {
	fuzzOnce.Do(func() {
		for _, o := range []Options{DefaultOptions(), {}, {Lowercase: true, SkipCleanText: true, MaxInputCharsPerWord: 5}} {
			fuzzTokenizers = append(fuzzTokenizers, mustNew(t, smallVocab, o))
		}
		if p := shareddata.Path("bert-base-uncased"); p != "" {
			if tok, err := Load(p); err == nil {
				fuzzTokenizers = append(fuzzTokenizers, tok)
			}
		}
	})
	return fuzzTokenizers
}

// FuzzTokenize checks invariants on arbitrary text: no panic, every piece is
// a vocabulary entry, Encode wraps the pieces in [CLS] ... [SEP], and
// truncation keeps a prefix within the length bound.
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"", "Hello, my dog is cute", "unwanted running", "Héllo ah\u535A\u63A8zz", "a\x00b\u200b[SEP]c\xff", "İstanbul ΣΟΦΙΑ 안녕", strings.Repeat("ab", 80), "[CLS][MASK][SE[SEP]"} {
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, text string, maxLen int) {
		for _, tok := range fuzzSet(t) {
			pieces := tok.Tokenize(text)
			ids := tok.TokenizeIDs(text)
			if len(pieces) != len(ids) {
				t.Fatalf("Tokenize gives %d pieces, TokenizeIDs %d ids", len(pieces), len(ids))
			}
			for i, p := range pieces {
				if id, ok := tok.ID(p); !ok || id != ids[i] {
					t.Fatalf("piece %q (id %d) is not the vocabulary entry %d", p, id, ids[i])
				}
			}
			full := tok.Encode(text, 0)
			want := append(append([]int32{tok.CLSID()}, ids...), tok.SEPID())
			if !slices.Equal(full, want) {
				t.Fatalf("Encode(%q, 0) = %v, want %v", text, full, want)
			}
			m := maxLen % 512
			if m < 2 {
				continue
			}
			enc := tok.Encode(text, m)
			if len(enc) > m || enc[0] != tok.CLSID() || enc[len(enc)-1] != tok.SEPID() {
				t.Fatalf("Encode(%q, %d) = %v: bad bound or special tokens", text, m, enc)
			}
			if n := len(enc) - 2; n != min(len(ids), m-2) || !slices.Equal(enc[1:1+n], ids[:n]) {
				t.Fatalf("Encode(%q, %d) = %v is not a truncation of %v", text, m, enc, ids)
			}
		}
	})
}

// FuzzParseVocab feeds arbitrary vocab.txt content: no panic, and what
// parses has no empty or duplicate token.
func FuzzParseVocab(f *testing.F) {
	f.Add([]byte("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n##lo\n"))
	f.Add([]byte("a\r\nb\r\n"))
	f.Add([]byte("a\n\nb"))
	f.Add([]byte("x\nx\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		vocab, err := ParseVocab(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, tok := range vocab {
			if tok == "" || seen[tok] {
				t.Fatalf("parsed vocabulary has empty or duplicate token %q", tok)
			}
			seen[tok] = true
		}
		if tok, err := New(vocab, DefaultOptions()); err == nil {
			tok.Encode(string(data), 8)
		}
	})
}

// FuzzParseTokenizerJSON feeds arbitrary tokenizer.json content: no panic,
// and a parsed vocabulary builds a tokenizer or fails with an error.
func FuzzParseTokenizerJSON(f *testing.F) {
	f.Add([]byte(`{"added_tokens":` + specialsJSON + `,"normalizer":{"type":"BertNormalizer","lowercase":true},"pre_tokenizer":{"type":"BertPreTokenizer"},"model":{"vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"a":4}}}`))
	f.Add([]byte(`{"normalizer":{"type":"Sequence","normalizers":[{"type":"NFD"},{"type":"StripAccents"}]},"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"BertPreTokenizer"}]},"model":{"vocab":{"[UNK]":0}}}`))
	f.Add([]byte(`{"model":{"vocab":{"a":-1}}}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		vocab, opts, err := parseTokenizerJSON(data, "fuzz.json")
		if err != nil {
			return
		}
		if tok, err := New(vocab, opts); err == nil {
			tok.Encode("Hello [SEP] wörld", 8)
		}
	})
}

// FuzzNormalize checks that the chunked normalization (ASCII fast path,
// Unicode path per chunk) equals the Unicode path over the whole text.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Héllo WÖRLD", "e\u0301 \u0301e", "a\tb\u00a0c\x00d\x7f", "ah\u535A\u63A8zz İ", "x\u1D165\u0301\u1D16D y", "\xff\xfe ab"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, tok := range fuzzSet(t) {
			got := tok.normalize(nil, text, new(scratch))
			want := tok.normalizeUnicode(nil, text, new(scratch))
			if !bytes.Equal(got, want) {
				t.Fatalf("normalize(%q) = %q, whole-text Unicode path gives %q", text, got, want)
			}
		}
	})
}
