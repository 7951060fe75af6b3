package tokenize

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/splade-go/splade/internal/shareddata"
)

// smallVocab is a toy WordPiece vocabulary in the style of Hugging Face's
// own tokenizer tests.
var smallVocab = []string{
	"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
	"want", "##want", "##ed", "wa", "un", "runn", "##ing", ",", "low", "lowest",
	"hello", "Hello", "!", "how", "are", "you", "?", "hällo", "Hällo", "h", "##e", "##llo",
	"a", "##a", "é", "##é", "b", "c", "abc", "de", "¿", "$", "x", "y", "«", "»", "q",
	"\u535A", "\u63A8", "ah", "zz", "ᄋ", "[", "]", "cl", "##s",
}

func mustNew(t testing.TB, vocab []string, opts Options) *Tokenizer {
	t.Helper()
	tok, err := New(vocab, opts)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func ptr(b bool) *bool { return &b }

func TestTokenize(t *testing.T) {
	uncased := DefaultOptions()
	cased := Options{TokenizeChineseChars: true}
	tests := []struct {
		name string
		opts Options
		in   string
		want []string
	}{
		{"empty", uncased, "", nil},
		{"only spaces", uncased, " \t\n\r\u3000 ", nil},
		{"wordpiece greedy", uncased, "unwanted running", []string{"un", "##want", "##ed", "runn", "##ing"}},
		{"unmatchable word is one UNK", uncased, "unwantedX running", []string{"[UNK]", "runn", "##ing"}},
		{"longest match first", uncased, "lowest low", []string{"lowest", "low"}},
		{"lower-case and punctuation", uncased, " \tHeLLo!how  \n Are yoU?  ", []string{"hello", "!", "how", "are", "you", "?"}},
		{"cased keeps case", cased, " \tHeLLo!how  \n Are yoU?  ", []string{"[UNK]", "!", "how", "[UNK]", "[UNK]", "?"}},
		{"cased exact", cased, "Hello hello", []string{"Hello", "hello"}},
		{"strip accents follows lowercase", uncased, "Héllo", []string{"hello"}},
		{"decomposed accents", uncased, "He\u0301llo", []string{"hello"}},
		{"lowercase without stripping", Options{Lowercase: true, StripAccents: ptr(false)}, "HäLLo", []string{"hällo"}},
		{"cased keeps accents", cased, "Hällo", []string{"Hällo"}},
		{"cased with explicit stripping", Options{StripAccents: ptr(true)}, "Héllo", []string{"Hello"}},
		{"CJK ideographs are words", uncased, "ah\u535A\u63A8zz", []string{"ah", "\u535A", "\u63A8", "zz"}},
		{"CJK splitting off", Options{Lowercase: true}, "ah\u535A\u63A8zz", []string{"[UNK]"}},
		{"Hangul is not split as CJK", uncased, "ᄋ", []string{"ᄋ"}},
		{"controls and format chars dropped", uncased, "a\x00b\u200bc\x7f d\u00ade", []string{"abc", "de"}},
		{"replacement, private use, unassigned dropped", uncased, "a\uFFFDb\uE000c\u0378", []string{"abc"}},
		{"invalid UTF-8 dropped", uncased, "ab\xffc", []string{"abc"}},
		{"unicode whitespace splits", uncased, "a\u00a0b\u2028c\u3000abc", []string{"a", "b", "c", "abc"}},
		{"unicode punctuation splits", uncased, "x$y «q» a¿b", []string{"x", "$", "y", "«", "q", "»", "a", "¿", "b"}},
		{"ASCII symbols are punctuation", uncased, "a^b`c|", []string{"a", "[UNK]", "b", "[UNK]", "c", "[UNK]"}},
		{"special tokens kept", uncased, "[CLS] hello[SEP]x [MASK]", []string{"[CLS]", "hello", "[SEP]", "x", "[MASK]"}},
		{"special tokens are case-sensitive", uncased, "[cls]", []string{"[", "cl", "##s", "]"}},
		{"100 characters is not too long", uncased, strings.Repeat("a", 100), append([]string{"a"}, repeat("##a", 99)...)},
		{"101 characters is UNK", uncased, strings.Repeat("a", 101) + " a", []string{"[UNK]", "a"}},
		{"limit counts characters not bytes", cased, strings.Repeat("é", 100), append([]string{"é"}, repeat("##é", 99)...)},
		{"limit counts characters not bytes 101", cased, strings.Repeat("é", 101), []string{"[UNK]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := mustNew(t, smallVocab, tt.opts)
			got := tok.Tokenize(tt.in)
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Tokenize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestMaxInputCharsPerWord(t *testing.T) {
	tok := mustNew(t, smallVocab, Options{Lowercase: true, MaxInputCharsPerWord: 3})
	if got := tok.Tokenize("aaa aaaa"); !reflect.DeepEqual(got, []string{"a", "##a", "##a", "[UNK]"}) {
		t.Errorf("got %q", got)
	}
}

func TestEncodeTruncation(t *testing.T) {
	tok := mustNew(t, smallVocab, DefaultOptions())
	cls, sep := tok.CLSID(), tok.SEPID()
	pieces := tok.TokenizeIDs("unwanted running") // un ##want ##ed runn ##ing
	if len(pieces) != 5 {
		t.Fatalf("pieces = %v", pieces)
	}
	full := append(append([]int32{cls}, pieces...), sep)
	tests := []struct {
		maxLen int
		want   []int32
	}{
		{0, full},
		{-1, full},
		{7, full},
		{100, full},
		{6, append([]int32{cls}, append(pieces[:4:4], sep)...)},
		{4, []int32{cls, pieces[0], pieces[1], sep}},
		{3, []int32{cls, pieces[0], sep}},
		{2, []int32{cls, sep}},
		{1, []int32{cls, sep}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.maxLen), func(t *testing.T) {
			if got := tok.Encode("unwanted running", tt.maxLen); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Encode(maxLen=%d) = %v, want %v", tt.maxLen, got, tt.want)
			}
		})
	}
	if got := tok.Encode("", 10); !reflect.DeepEqual(got, []int32{cls, sep}) {
		t.Errorf("Encode(\"\") = %v", got)
	}
	buf := tok.AppendEncode([]int32{42}, "want", 0)
	if want := []int32{42, cls, 5, sep}; !reflect.DeepEqual(buf, want) {
		t.Errorf("AppendEncode = %v, want %v", buf, want)
	}
}

func TestAccessors(t *testing.T) {
	tok := mustNew(t, smallVocab, DefaultOptions())
	if tok.VocabSize() != len(smallVocab) {
		t.Errorf("VocabSize = %d", tok.VocabSize())
	}
	for _, c := range []struct {
		got  int32
		name string
	}{{tok.PadID(), "[PAD]"}, {tok.UnkID(), "[UNK]"}, {tok.CLSID(), "[CLS]"}, {tok.SEPID(), "[SEP]"}, {tok.MaskID(), "[MASK]"}} {
		if tok.Token(c.got) != c.name {
			t.Errorf("id %d is %q, want %q", c.got, tok.Token(c.got), c.name)
		}
	}
	if id, ok := tok.ID("##want"); !ok || id != 6 {
		t.Errorf("ID(##want) = %d, %t", id, ok)
	}
	if _, ok := tok.ID("nope"); ok {
		t.Error("ID(nope) found")
	}
	if tok.Token(-1) != "" || tok.Token(int32(len(smallVocab))) != "" {
		t.Error("Token out of range should be empty")
	}
	v := tok.Vocab()
	v[0] = "changed"
	if tok.Token(0) != "[PAD]" {
		t.Error("Vocab returned the internal slice")
	}
	noMask := mustNew(t, []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]"}, DefaultOptions())
	if noMask.MaskID() != -1 {
		t.Errorf("MaskID without [MASK] = %d", noMask.MaskID())
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name  string
		vocab []string
		want  string
	}{
		{"empty", nil, "empty vocabulary"},
		{"duplicate", []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "a"}, `vocabulary entry 5: duplicate token "a" (first at vocabulary entry 4)`},
		{"empty token", []string{"[PAD]", "", "[UNK]"}, "vocabulary entry 1: empty token"},
		{"missing specials", []string{"[PAD]", "a"}, "lacks the special token(s) [UNK], [CLS], [SEP]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.vocab, DefaultOptions())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	base := mustNew(t, smallVocab, DefaultOptions())
	if len(base.Fingerprint()) != 64 {
		t.Fatalf("fingerprint %q is not hex SHA-256", base.Fingerprint())
	}
	same := mustNew(t, smallVocab, Options{Lowercase: true, StripAccents: ptr(true), TokenizeChineseChars: true, MaxInputCharsPerWord: 100})
	if same.Fingerprint() != base.Fingerprint() {
		t.Error("equivalent options give different fingerprints")
	}
	other := append(append([]string(nil), smallVocab...), "extra")
	for name, tok := range map[string]*Tokenizer{
		"cased":       mustNew(t, smallVocab, Options{TokenizeChineseChars: true}),
		"no strip":    mustNew(t, smallVocab, Options{Lowercase: true, StripAccents: ptr(false), TokenizeChineseChars: true}),
		"no CJK":      mustNew(t, smallVocab, Options{Lowercase: true}),
		"no cleaning": mustNew(t, smallVocab, Options{Lowercase: true, TokenizeChineseChars: true, SkipCleanText: true}),
		"other vocab": mustNew(t, other, DefaultOptions()),
	} {
		if tok.Fingerprint() == base.Fingerprint() {
			t.Errorf("%s: same fingerprint as the base tokenizer", name)
		}
	}
}

func TestSkipCleanText(t *testing.T) {
	tok := mustNew(t, []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "##\x01", "##\u200b", "b"}, Options{Lowercase: true, SkipCleanText: true})
	if got := tok.Tokenize("a\x01 a\u200b\tb"); !reflect.DeepEqual(got, []string{"a", "##\x01", "a", "##\u200b", "b"}) {
		t.Errorf("got %q", got)
	}
}

func TestConcurrent(t *testing.T) {
	tok := mustNew(t, smallVocab, DefaultOptions())
	texts := []string{"unwanted running", "Héllo, how are you?", "ah\u535A\u63A8zz", strings.Repeat("a", 150)}
	want := make([][]int32, len(texts))
	for i, s := range texts {
		want[i] = tok.Encode(s, 0)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 200; n++ {
				i := (g + n) % len(texts)
				if got := tok.Encode(texts[i], 0); !reflect.DeepEqual(got, want[i]) {
					errs <- fmt.Sprintf("Encode(%q) = %v, want %v", texts[i], got, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestBertBaseUncased checks well-known tokenizations of bert-base-uncased.
func TestBertBaseUncased(t *testing.T) {
	tok, err := Load(shareddata.Require(t, "bert-base-uncased"))
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Encode("Hello, my dog is cute", 0); !reflect.DeepEqual(got, []int32{101, 7592, 1010, 2026, 3899, 2003, 10140, 102}) {
		t.Errorf("Encode = %v", got)
	}
	tests := []struct{ in, want string }{
		{"unaffable", "una ##ffa ##ble"},
		{"Héllo wörld Ça", "hello world ca"},
		{"İstanbul", "istanbul"},
		{"東京タワー", "東 京 タ ##ワ ##ー"},
		{"33°c 2.74", "33 ##° ##c 2 . 74"},
	}
	for _, tt := range tests {
		if got := strings.Join(tok.Tokenize(tt.in), " "); got != tt.want {
			t.Errorf("Tokenize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if tok.VocabSize() != 30522 || tok.PadID() != 0 || tok.UnkID() != 100 || tok.CLSID() != 101 || tok.SEPID() != 102 || tok.MaskID() != 103 {
		t.Errorf("size %d, ids pad %d unk %d cls %d sep %d mask %d", tok.VocabSize(), tok.PadID(), tok.UnkID(), tok.CLSID(), tok.SEPID(), tok.MaskID())
	}
}

// TestLoadFormatsAgree loads bert-base-uncased from tokenizer.json, from
// vocab.txt and from its directory: the vocabulary, options, fingerprint
// and tokenization must be identical.
func TestLoadFormatsAgree(t *testing.T) {
	dir := shareddata.Require(t, "bert-base-uncased")
	fromJSON, err := Load(filepath.Join(dir, TokenizerJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	fromVocab, err := Load(filepath.Join(dir, VocabFile))
	if err != nil {
		t.Fatal(err)
	}
	fromDir, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	explicit, err := LoadVocab(filepath.Join(dir, VocabFile), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]*Tokenizer{"vocab.txt": fromVocab, "directory": fromDir, "LoadVocab": explicit} {
		if !reflect.DeepEqual(tok.Vocab(), fromJSON.Vocab()) {
			t.Errorf("%s: vocabulary differs from tokenizer.json", name)
		}
		// The fingerprint covers the resolved normalization options.
		if tok.Fingerprint() != fromJSON.Fingerprint() {
			t.Errorf("%s: fingerprint differs from tokenizer.json (options %+v vs %+v)", name, tok.Options(), fromJSON.Options())
		}
		for _, s := range []string{"Hello, my dog is cute", "Héllo 東京 [SEP] x\u200by"} {
			if a, b := tok.Encode(s, 0), fromJSON.Encode(s, 0); !reflect.DeepEqual(a, b) {
				t.Errorf("%s: Encode(%q) = %v, tokenizer.json gives %v", name, s, a, b)
			}
		}
	}
}

// TestLoadConfig checks that tokenizer_config.json overrides the defaults
// of a vocab.txt, as for a cased model directory.
func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, VocabFile, strings.Join(smallVocab, "\n")+"\n")
	write(t, dir, TokenizerConfigFile, `{"do_lower_case": false, "tokenize_chinese_chars": false, "strip_accents": null}`)
	tok, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	o := tok.Options()
	if o.Lowercase || o.TokenizeChineseChars || o.StripAccents != nil {
		t.Errorf("options %+v, want cased without CJK splitting", o)
	}
	if got := tok.Tokenize("Hällo Hello"); !reflect.DeepEqual(got, []string{"Hällo", "Hello"}) {
		t.Errorf("cased model: got %q", got)
	}
	write(t, dir, TokenizerConfigFile, `{"do_lower_case": true, "strip_accents": false}`)
	tok, err = Load(filepath.Join(dir, VocabFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Tokenize("HÄLLO"); !reflect.DeepEqual(got, []string{"hällo"}) {
		t.Errorf("lower-case, keep accents: got %q", got)
	}
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const specialsJSON = `[{"id":0,"content":"[PAD]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
 {"id":1,"content":"[UNK]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}]`

func TestLoadErrors(t *testing.T) {
	vocab := func(lines ...string) string { return strings.Join(lines, "\n") + "\n" }
	okVocab := `"vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3}`
	tests := []struct {
		name, file, content, want string
	}{
		{"empty vocab", "vocab.txt", "", "vocab.txt: empty vocabulary"},
		{"empty line", "vocab.txt", vocab("[PAD]", "", "[UNK]"), "vocab.txt:2: empty line"},
		{"duplicate token", "vocab.txt", vocab("[PAD]", "[UNK]", "[CLS]", "[SEP]", "x", "[UNK]"), `vocab.txt:6: duplicate token "[UNK]" (first on line 2)`},
		{"missing UNK", "vocab.txt", vocab("[PAD]", "[CLS]", "[SEP]"), "lacks the special token(s) [UNK]"},
		{"missing CLS and SEP", "vocab.txt", vocab("[PAD]", "[UNK]"), "lacks the special token(s) [CLS], [SEP]"},
		{"bad JSON", "tokenizer.json", "{\n\"model\": {\"vocab\": {\"a\": 0,}}}", "tokenizer.json:2:"},
		{"JSON type error", "tokenizer.json", "{\"model\": {\"vocab\": {\"a\": \"zero\"}}}", "tokenizer.json:1:"},
		{"no vocab", "tokenizer.json", `{"model":{"type":"WordPiece"}}`, "no model.vocab"},
		{"BPE", "tokenizer.json", `{"model":{"type":"BPE","vocab":{}}}`, `model type "BPE" is not supported`},
		{"sparse ids", "tokenizer.json", `{"model":{"vocab":{"[PAD]":0,"[UNK]":5}}}`, "outside 0..1"},
		{"empty JSON vocab", "tokenizer.json", `{"pre_tokenizer":{"type":"BertPreTokenizer"},"model":{"vocab":{}}}`, "empty vocabulary"},
		{"unknown normalizer", "tokenizer.json", `{"normalizer":{"type":"NFKC"},"pre_tokenizer":{"type":"BertPreTokenizer"},"model":{` + okVocab + `}}`, `normalizer: type "NFKC" is not supported`},
		{"unknown pre-tokenizer", "tokenizer.json", `{"normalizer":null,"pre_tokenizer":{"type":"Whitespace"},"model":{` + okVocab + `}}`, `pre_tokenizer: type "Whitespace" is not supported`},
		{"extra added token", "tokenizer.json", `{"added_tokens":[{"id":4,"content":"<x>","special":true}],"pre_tokenizer":{"type":"BertPreTokenizer"},"model":{` + okVocab + `}}`, `added token "<x>" (id 4) is not the vocabulary entry`},
		{"other prefix", "tokenizer.json", `{"model":{"continuing_subword_prefix":"@@",` + okVocab + `}}`, `continuing_subword_prefix "@@" is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(t, t.TempDir(), tt.file, tt.content)
			_, err := Load(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "holds neither") {
		t.Errorf("empty directory: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing path: no error")
	}
}

func TestTokenizerJSONNormalizers(t *testing.T) {
	vocabJSON := `"model":{"unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":7,"vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3}}`
	tests := []struct {
		name, normalizer string
		want             Options
	}{
		{"null", `null`, Options{SkipCleanText: true, MaxInputCharsPerWord: 7}},
		{"bert cased", `{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":false,"strip_accents":null,"lowercase":false}`, Options{MaxInputCharsPerWord: 7}},
		{"bert strip", `{"type":"BertNormalizer","clean_text":false,"handle_chinese_chars":true,"strip_accents":true,"lowercase":false}`, Options{StripAccents: ptr(true), TokenizeChineseChars: true, SkipCleanText: true, MaxInputCharsPerWord: 7}},
		{"sequence", `{"type":"Sequence","normalizers":[{"type":"NFD"},{"type":"Lowercase"},{"type":"StripAccents"}]}`, Options{Lowercase: true, StripAccents: ptr(true), SkipCleanText: true, MaxInputCharsPerWord: 7}},
		{"sequence with bert", `{"type":"Sequence","normalizers":[{"type":"BertNormalizer","lowercase":false,"handle_chinese_chars":false},{"type":"Lowercase"}]}`, Options{Lowercase: true, MaxInputCharsPerWord: 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got, err := parseTokenizerJSON([]byte(`{"normalizer":`+tt.normalizer+`,"pre_tokenizer":{"type":"BertPreTokenizer"},`+vocabJSON+`}`), "t.json")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("options %+v, want %+v", got, tt.want)
			}
		})
	}
	for _, bad := range []string{
		`{"type":"Sequence","normalizers":[{"type":"StripAccents"}]}`,
		`{"type":"Sequence","normalizers":[{"type":"NFD"}]}`,
		`{"type":"Sequence","normalizers":[{"type":"Lowercase"},{"type":"BertNormalizer"}]}`,
	} {
		if _, _, err := parseTokenizerJSON([]byte(`{"normalizer":`+bad+`,"pre_tokenizer":{"type":"BertPreTokenizer"},`+vocabJSON+`}`), "t.json"); err == nil {
			t.Errorf("normalizer %s: no error", bad)
		}
	}
}
