// Package tokenize turns text into the BERT WordPiece tokens that SPLADE's
// encoder reads and that its sparse vectors are expressed in.
//
// SPLADE's output dimensions are the vocabulary of the masked-language-model
// head, so a term in an index is only meaningful if documents and queries
// were tokenized exactly as the model was trained: one differently split
// word moves weight to a different dimension. This package therefore
// reproduces Hugging Face's BertTokenizerFast (the tokenizers library's
// BertNormalizer, BertPreTokenizer and WordPiece model) rather than
// approximating it:
//
//  1. Special tokens ([CLS], [SEP], [PAD], [UNK], [MASK]) written literally in
//     the text are kept as those tokens, as Hugging Face's added-token
//     splitting does before normalization.
//  2. Normalization (BertNormalizer): clean the text (drop U+0000, U+FFFD and
//     "other" characters, categories Cc/Cf/Co/Cn, except \t \n \r; map
//     whitespace to a space), put spaces around CJK ideographs, strip accents
//     (NFD, then drop nonspacing marks Mn) and lower-case. Accent stripping
//     follows lower-casing unless set explicitly.
//  3. Pre-tokenization (BertPreTokenizer): split on whitespace and isolate each
//     punctuation character (Unicode P* plus the ASCII symbols 33-47, 58-64,
//     91-96, 123-126).
//  4. WordPiece (Wu et al. 2016): greedy longest-match-first against the
//     vocabulary, continuations carrying the "##" prefix; a word of more than
//     100 characters, or one that cannot be covered, becomes a single [UNK].
//
// Two rare cases where the slow Python BertTokenizer differs from the fast one
// follow the fast one: lower-casing is per character (no final-sigma rule)
// and text is not NFC-normalized first when accents are kept.
//
// A Tokenizer is immutable after construction and safe for concurrent use.
// The hot path works on bytes of a pooled scratch buffer and finds pieces by
// walking a byte trie of the vocabulary, without allocating strings.
package tokenize

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Names of the special tokens of BERT vocabularies.
const (
	UnkToken  = "[UNK]"
	ClsToken  = "[CLS]"
	SepToken  = "[SEP]"
	PadToken  = "[PAD]"
	MaskToken = "[MASK]"
)

// ContinuationPrefix marks a WordPiece that continues a word.
const ContinuationPrefix = "##"

// DefaultMaxInputCharsPerWord is the length (in characters) above which a
// word becomes [UNK] without being split, as in BERT.
const DefaultMaxInputCharsPerWord = 100

// Options selects the normalization of BERT's BasicTokenizer. The zero value
// is a cased tokenizer without CJK splitting; DefaultOptions gives the
// settings of bert-base-uncased.
type Options struct {
	// Lowercase lower-cases the text (do_lower_case / lowercase).
	Lowercase bool
	// StripAccents removes accents (NFD, then drop Mn). Nil follows
	// Lowercase, as Hugging Face does when strip_accents is unset.
	StripAccents *bool
	// TokenizeChineseChars puts spaces around CJK ideographs so that each
	// becomes its own word (tokenize_chinese_chars / handle_chinese_chars).
	TokenizeChineseChars bool
	// SkipCleanText keeps control characters and does not map whitespace to
	// spaces (clean_text=false in tokenizer.json). BertTokenizer always
	// cleans, so the zero value cleans.
	SkipCleanText bool
	// MaxInputCharsPerWord: longer words become [UNK]; 0 means 100.
	MaxInputCharsPerWord int
}

// DefaultOptions returns the options of Hugging Face's BertTokenizer
// defaults, which are those of bert-base-uncased: lower-case, strip accents,
// split CJK ideographs, clean text.
func DefaultOptions() Options {
	return Options{Lowercase: true, TokenizeChineseChars: true}
}

// stripAccents resolves StripAccents.
func (o Options) stripAccents() bool {
	if o.StripAccents != nil {
		return *o.StripAccents
	}
	return o.Lowercase
}

func (o Options) maxChars() int {
	if o.MaxInputCharsPerWord > 0 {
		return o.MaxInputCharsPerWord
	}
	return DefaultMaxInputCharsPerWord
}

// Tokenizer is a BERT WordPiece tokenizer over a fixed vocabulary.
type Tokenizer struct {
	vocab []string
	ids   map[string]int32
	// cont maps continuation pieces, keyed without their "##" prefix so that
	// a word's remainder is looked up as it is.
	cont map[string]int32
	trie *trie
	// contRoot is the trie node of "##", where continuation pieces start,
	// or -1 when the vocabulary has none.
	contRoot int64

	opts     Options
	strip    bool
	maxChars int
	clean    bool

	// specials are the tokens kept whole when written in the text.
	specials []special

	cls, sep, pad, unk, mask int32

	fingerprint string
}

type special struct {
	text string
	id   int32
}

// New builds a tokenizer over vocab, where a token's id is its index.
// It fails on an empty vocabulary, empty or duplicate tokens, and when
// [UNK], [CLS], [SEP] or [PAD] is missing ([MASK] is optional).
func New(vocab []string, opts Options) (*Tokenizer, error) {
	return newTokenizer(vocab, opts, nil)
}

// newTokenizer also takes where each token was read from (for errors).
func newTokenizer(vocab []string, opts Options, where func(id int) string) (*Tokenizer, error) {
	if where == nil {
		where = func(id int) string { return fmt.Sprintf("vocabulary entry %d", id) }
	}
	if len(vocab) == 0 {
		return nil, fmt.Errorf("empty vocabulary")
	}
	if len(vocab) > 1<<31-1 {
		return nil, fmt.Errorf("vocabulary of %d tokens is too large", len(vocab))
	}
	t := &Tokenizer{
		vocab:    append([]string(nil), vocab...),
		ids:      make(map[string]int32, len(vocab)),
		cont:     make(map[string]int32, len(vocab)/4),
		opts:     opts,
		strip:    opts.stripAccents(),
		maxChars: opts.maxChars(),
		clean:    !opts.SkipCleanText,
		mask:     -1,
	}
	if opts.StripAccents != nil {
		b := *opts.StripAccents
		t.opts.StripAccents = &b // do not alias the caller's bool
	}
	for i, tok := range t.vocab {
		if tok == "" {
			return nil, fmt.Errorf("%s: empty token", where(i))
		}
		if j, dup := t.ids[tok]; dup {
			return nil, fmt.Errorf("%s: duplicate token %q (first at %s)", where(i), tok, where(int(j)))
		}
		t.ids[tok] = int32(i)
		if rest, ok := strings.CutPrefix(tok, ContinuationPrefix); ok && rest != "" {
			t.cont[rest] = int32(i)
		}
	}
	t.trie = buildTrie(t.vocab)
	t.contRoot = t.trie.walk(0, ContinuationPrefix)
	var missing []string
	find := func(name string, required bool) int32 {
		id, ok := t.ids[name]
		if !ok {
			if required {
				missing = append(missing, name)
			}
			return -1
		}
		t.specials = append(t.specials, special{name, id})
		return id
	}
	t.unk = find(UnkToken, true)
	t.cls = find(ClsToken, true)
	t.sep = find(SepToken, true)
	t.pad = find(PadToken, true)
	t.mask = find(MaskToken, false)
	if len(missing) > 0 {
		return nil, fmt.Errorf("vocabulary of %d tokens lacks the special token(s) %s", len(vocab), strings.Join(missing, ", "))
	}
	t.fingerprint = t.computeFingerprint()
	return t, nil
}

// VocabSize returns the number of tokens in the vocabulary.
func (t *Tokenizer) VocabSize() int { return len(t.vocab) }

// Token returns the token with the given id, or "" when id is out of range.
func (t *Tokenizer) Token(id int32) string {
	if id < 0 || int(id) >= len(t.vocab) {
		return ""
	}
	return t.vocab[id]
}

// ID returns the id of a token.
func (t *Tokenizer) ID(tok string) (int32, bool) {
	id, ok := t.ids[tok]
	return id, ok
}

// Vocab returns a copy of the vocabulary, indexed by id.
func (t *Tokenizer) Vocab() []string { return append([]string(nil), t.vocab...) }

// Options returns the normalization options in effect.
func (t *Tokenizer) Options() Options {
	o := t.opts
	if o.StripAccents != nil {
		b := *o.StripAccents
		o.StripAccents = &b
	}
	return o
}

// CLSID returns the id of [CLS], which starts every encoded sequence.
func (t *Tokenizer) CLSID() int32 { return t.cls }

// SEPID returns the id of [SEP], which ends every encoded sequence.
func (t *Tokenizer) SEPID() int32 { return t.sep }

// PadID returns the id of [PAD], used to fill batches.
func (t *Tokenizer) PadID() int32 { return t.pad }

// UnkID returns the id of [UNK], given to words the vocabulary cannot cover.
func (t *Tokenizer) UnkID() int32 { return t.unk }

// MaskID returns the id of [MASK], or -1 when the vocabulary has none.
func (t *Tokenizer) MaskID() int32 { return t.mask }

// Fingerprint identifies the vocabulary and normalization: the hex SHA-256
// of the vocabulary lines followed by a line describing the options. An
// index records it so that queries are encoded in the same term space.
func (t *Tokenizer) Fingerprint() string { return t.fingerprint }

func (t *Tokenizer) computeFingerprint() string {
	h := sha256.New()
	for _, tok := range t.vocab {
		h.Write([]byte(tok))
		h.Write([]byte{'\n'})
	}
	fmt.Fprintf(h, "#options lowercase=%t strip_accents=%t tokenize_chinese_chars=%t clean_text=%t max_input_chars_per_word=%d\n",
		t.opts.Lowercase, t.strip, t.opts.TokenizeChineseChars, t.clean, t.maxChars)
	return hex.EncodeToString(h.Sum(nil))
}

// Tokenize returns the wordpieces of text, without [CLS] and [SEP]. The
// strings are the vocabulary's own (shared, not allocated per call).
func (t *Tokenizer) Tokenize(text string) []string {
	s := t.getScratch()
	s.ids = t.appendPieces(s.ids[:0], text, -1, s)
	out := make([]string, len(s.ids))
	for i, id := range s.ids {
		out[i] = t.vocab[id]
	}
	t.putScratch(s)
	return out
}

// TokenizeIDs returns the ids of the wordpieces of text, without [CLS] and
// [SEP].
func (t *Tokenizer) TokenizeIDs(text string) []int32 {
	s := t.getScratch()
	s.ids = t.appendPieces(s.ids[:0], text, -1, s)
	out := slices.Clone(s.ids)
	t.putScratch(s)
	return out
}

// Encode returns the model input for text: [CLS], the wordpiece ids
// truncated to maxLen-2, [SEP]. maxLen <= 0 means no limit; maxLen 1 is
// raised to 2, the shortest encoding.
func (t *Tokenizer) Encode(text string, maxLen int) []int32 {
	s := t.getScratch()
	ids := t.appendEncode(s.ids[:0], text, maxLen, s)
	out := slices.Clone(ids)
	s.ids = ids
	t.putScratch(s)
	return out
}

// AppendEncode appends Encode(text, maxLen) to dst, so that a batch can be
// encoded into one reused buffer.
func (t *Tokenizer) AppendEncode(dst []int32, text string, maxLen int) []int32 {
	s := t.getScratch()
	dst = t.appendEncode(dst, text, maxLen, s)
	t.putScratch(s)
	return dst
}

func (t *Tokenizer) appendEncode(dst []int32, text string, maxLen int, s *scratch) []int32 {
	limit := -1
	if maxLen > 0 {
		limit = max(maxLen, 2) - 2
	}
	dst = append(dst, t.cls)
	dst = t.appendPieces(dst, text, limit, s)
	return append(dst, t.sep)
}

// scratch holds the buffers of one call; pooled so that steady-state
// tokenization does not allocate them.
type scratch struct {
	a, b, c []byte // normalized text; two buffers of normalizeUnicode
	ids     []int32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func (t *Tokenizer) getScratch() *scratch { return scratchPool.Get().(*scratch) }

func (t *Tokenizer) putScratch(s *scratch) {
	// Do not keep the buffers of one huge document alive forever.
	if cap(s.a) > 1<<20 || cap(s.b) > 1<<20 || cap(s.c) > 1<<20 || cap(s.ids) > 1<<18 {
		return
	}
	scratchPool.Put(s)
}

// appendPieces appends the wordpiece ids of text to dst, at most limit of
// them (limit < 0: all).
func (t *Tokenizer) appendPieces(dst []int32, text string, limit int, s *scratch) []int32 {
	base := len(dst)
	for text != "" {
		if limit >= 0 && len(dst)-base >= limit {
			break
		}
		at, sp := t.nextSpecial(text)
		seg := text
		if at >= 0 {
			seg = text[:at]
		}
		if seg != "" {
			s.a = t.normalize(s.a[:0], seg, s)
			dst = t.appendWords(dst, s.a, base, limit)
		}
		if at < 0 {
			break
		}
		dst = append(dst, sp.id)
		text = text[at+len(sp.text):]
	}
	if limit >= 0 && len(dst)-base > limit {
		dst = dst[:base+limit]
	}
	return dst
}

// nextSpecial finds the leftmost occurrence of a special token in text (the
// longest when several start there); at is -1 when there is none.
func (t *Tokenizer) nextSpecial(text string) (at int, sp special) {
	at = -1
	for _, c := range t.specials {
		i := strings.Index(text, c.text)
		if i < 0 {
			continue
		}
		if at < 0 || i < at || (i == at && len(c.text) > len(sp.text)) {
			at, sp = i, c
		}
	}
	return at, sp
}
