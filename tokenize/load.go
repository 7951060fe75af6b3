package tokenize

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/splade-go/splade/internal/fileio"
)

// Files a Hugging Face model directory holds.
const (
	VocabFile           = "vocab.txt"
	TokenizerJSONFile   = "tokenizer.json"
	TokenizerConfigFile = "tokenizer_config.json"
)

// maxVocabLine bounds one line of vocab.txt.
const maxVocabLine = 1 << 16

// Load reads a tokenizer from a vocab.txt file, a tokenizer.json file, or a
// model directory holding either (tokenizer.json is preferred, as
// AutoTokenizer does).
//
// The normalization options come from tokenizer.json's normalizer, or are
// BertTokenizer's defaults (DefaultOptions) for vocab.txt; in both cases
// do_lower_case, strip_accents and tokenize_chinese_chars from a
// tokenizer_config.json in the same directory override them, as
// transformers does when it loads the directory.
func Load(path string) (*Tokenizer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	dir, file := filepath.Dir(path), path
	if st.IsDir() {
		dir = path
		file = filepath.Join(dir, TokenizerJSONFile)
		if _, err := os.Stat(file); err != nil {
			file = filepath.Join(dir, VocabFile)
			if _, err := os.Stat(file); err != nil {
				return nil, fmt.Errorf("tokenizer: %s holds neither %s nor %s", dir, TokenizerJSONFile, VocabFile)
			}
		}
	}
	var (
		vocab []string
		opts  Options
		where func(int) string
	)
	if isJSON(file) {
		vocab, opts, err = readTokenizerJSON(file)
		where = func(id int) string { return fmt.Sprintf("%s: id %d", file, id) }
	} else {
		vocab, err = ReadVocab(file)
		opts = DefaultOptions()
		where = func(id int) string { return fmt.Sprintf("%s:%d", file, id+1) }
	}
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, TokenizerConfigFile)
	if _, err := os.Stat(cfgPath); err == nil {
		if err := applyTokenizerConfig(cfgPath, &opts); err != nil {
			return nil, err
		}
	}
	t, err := newTokenizer(vocab, opts, where)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", file, err)
	}
	return t, nil
}

// LoadVocab reads a vocab.txt file and builds a tokenizer with the given
// options, ignoring any tokenizer_config.json.
func LoadVocab(path string, opts Options) (*Tokenizer, error) {
	vocab, err := ReadVocab(path)
	if err != nil {
		return nil, err
	}
	t, err := newTokenizer(vocab, opts, func(id int) string { return fmt.Sprintf("%s:%d", path, id+1) })
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	return t, nil
}

// isJSON tells a tokenizer.json from a vocab.txt by its first non-blank
// byte, so that neither has to be named conventionally.
func isJSON(path string) bool {
	if strings.HasSuffix(path, ".json") {
		return true
	}
	f, err := fileio.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var buf [512]byte
	n, _ := io.ReadFull(f, buf[:])
	b := bytes.TrimLeft(buf[:n], " \t\r\n\ufeff")
	return len(b) > 0 && b[0] == '{'
}

// ReadVocab reads a vocab.txt file (gzip allowed): one token per line, the
// id being the 0-based line number. A final newline is optional and CRLF
// line ends are accepted. Empty lines and duplicate tokens are errors naming
// the line, since they would silently shift or shadow ids.
func ReadVocab(path string) ([]string, error) {
	f, err := fileio.Open(path)
	if err != nil {
		return nil, fmt.Errorf("vocabulary: %w", err)
	}
	defer f.Close()
	return ParseVocab(f, path)
}

// ParseVocab reads vocab.txt content from r; name labels errors.
func ParseVocab(r io.Reader, name string) ([]string, error) {
	lr := fileio.NewLineReader(r, maxVocabLine)
	var vocab []string
	seen := map[string]int{}
	for {
		line, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, lr.Line(), err)
		}
		if len(line) == 0 {
			return nil, fmt.Errorf("%s:%d: empty line (every line must hold one token)", name, lr.Line())
		}
		tok := string(line)
		if first, dup := seen[tok]; dup {
			return nil, fmt.Errorf("%s:%d: duplicate token %q (first on line %d)", name, lr.Line(), tok, first)
		}
		seen[tok] = lr.Line()
		vocab = append(vocab, tok)
	}
	if len(vocab) == 0 {
		return nil, fmt.Errorf("%s: empty vocabulary", name)
	}
	return vocab, nil
}

// tokenizerJSON is the part of a Hugging Face tokenizers file that a BERT
// WordPiece tokenizer uses.
type tokenizerJSON struct {
	AddedTokens []struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		Normalized bool   `json:"normalized"`
		Special    bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer   json.RawMessage `json:"normalizer"`
	PreTokenizer json.RawMessage `json:"pre_tokenizer"`
	Model        struct {
		Type                    string         `json:"type"`
		UnkToken                *string        `json:"unk_token"`
		ContinuingSubwordPrefix *string        `json:"continuing_subword_prefix"`
		MaxInputCharsPerWord    *int           `json:"max_input_chars_per_word"`
		Vocab                   map[string]int `json:"vocab"`
	} `json:"model"`
}

// readTokenizerJSON reads the WordPiece vocabulary and the BertNormalizer
// options of a tokenizer.json. Anything it cannot reproduce exactly (another
// model type, another pre-tokenizer, added tokens that are not plain
// vocabulary entries) is an error rather than a silent approximation.
func readTokenizerJSON(path string) ([]string, Options, error) {
	var opts Options
	f, err := fileio.Open(path)
	if err != nil {
		return nil, opts, fmt.Errorf("tokenizer: %w", err)
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, opts, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	return parseTokenizerJSON(data, path)
}

// parseTokenizerJSON is readTokenizerJSON on the file's content; path labels
// errors.
func parseTokenizerJSON(data []byte, path string) ([]string, Options, error) {
	var opts Options
	var tj tokenizerJSON
	if err := json.Unmarshal(data, &tj); err != nil {
		return nil, opts, jsonError(path, data, err)
	}
	m := tj.Model
	if m.Type != "" && m.Type != "WordPiece" {
		return nil, opts, fmt.Errorf("%s: model type %q is not supported (only WordPiece)", path, m.Type)
	}
	if m.Vocab == nil {
		return nil, opts, fmt.Errorf("%s: no model.vocab", path)
	}
	if m.UnkToken != nil && *m.UnkToken != UnkToken {
		return nil, opts, fmt.Errorf("%s: model.unk_token %q is not supported (only %s)", path, *m.UnkToken, UnkToken)
	}
	if m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != ContinuationPrefix {
		return nil, opts, fmt.Errorf("%s: model.continuing_subword_prefix %q is not supported (only %q)", path, *m.ContinuingSubwordPrefix, ContinuationPrefix)
	}
	if m.MaxInputCharsPerWord != nil {
		if *m.MaxInputCharsPerWord <= 0 {
			return nil, opts, fmt.Errorf("%s: model.max_input_chars_per_word %d is not positive", path, *m.MaxInputCharsPerWord)
		}
		opts.MaxInputCharsPerWord = *m.MaxInputCharsPerWord
	}

	vocab := make([]string, len(m.Vocab))
	byID := make([]bool, len(m.Vocab))
	for tok, id := range m.Vocab {
		if id < 0 || id >= len(vocab) {
			return nil, opts, fmt.Errorf("%s: model.vocab: token %q has id %d outside 0..%d (ids must be dense)", path, tok, id, len(vocab)-1)
		}
		if byID[id] {
			return nil, opts, fmt.Errorf("%s: model.vocab: id %d given to both %q and %q", path, id, vocab[id], tok)
		}
		byID[id], vocab[id] = true, tok
	}
	for _, at := range tj.AddedTokens {
		if at.ID < 0 || at.ID >= len(vocab) || vocab[at.ID] != at.Content {
			return nil, opts, fmt.Errorf("%s: added token %q (id %d) is not the vocabulary entry with that id; extra added tokens are not supported", path, at.Content, at.ID)
		}
		if !at.Special || at.Normalized || at.SingleWord {
			return nil, opts, fmt.Errorf("%s: added token %q: only special, unnormalized, not single-word added tokens are supported", path, at.Content)
		}
		switch at.Content {
		case UnkToken, ClsToken, SepToken, PadToken, MaskToken:
		default:
			return nil, opts, fmt.Errorf("%s: added special token %q is not one of BERT's %s %s %s %s %s", path, at.Content, UnkToken, ClsToken, SepToken, PadToken, MaskToken)
		}
	}

	if err := parseNormalizer(tj.Normalizer, &opts); err != nil {
		return nil, opts, fmt.Errorf("%s: normalizer: %w", path, err)
	}
	if err := checkPreTokenizer(tj.PreTokenizer); err != nil {
		return nil, opts, fmt.Errorf("%s: pre_tokenizer: %w", path, err)
	}
	return vocab, opts, nil
}

type normalizerJSON struct {
	Type               string            `json:"type"`
	CleanText          *bool             `json:"clean_text"`
	HandleChineseChars *bool             `json:"handle_chinese_chars"`
	StripAccents       *bool             `json:"strip_accents"`
	Lowercase          *bool             `json:"lowercase"`
	Normalizers        []json.RawMessage `json:"normalizers"`
}

// parseNormalizer sets opts from a BertNormalizer, or from a Sequence of
// BertNormalizer, Lowercase, NFD and StripAccents (the latter only after
// NFD, so that it strips accents as BertNormalizer does). A missing
// normalizer means none: cased, no cleaning, no CJK splitting.
func parseNormalizer(raw json.RawMessage, opts *Options) error {
	opts.SkipCleanText = true
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var n normalizerJSON
	if err := json.Unmarshal(raw, &n); err != nil {
		return err
	}
	switch n.Type {
	case "BertNormalizer":
		opts.SkipCleanText = n.CleanText != nil && !*n.CleanText
		opts.TokenizeChineseChars = n.HandleChineseChars == nil || *n.HandleChineseChars
		opts.Lowercase = n.Lowercase == nil || *n.Lowercase
		opts.StripAccents = n.StripAccents
		return nil
	case "Sequence":
		var nfd, bert bool
		for i, r := range n.Normalizers {
			var e normalizerJSON
			if err := json.Unmarshal(r, &e); err != nil {
				return fmt.Errorf("normalizers[%d]: %w", i, err)
			}
			switch e.Type {
			case "BertNormalizer":
				if bert || i > 0 {
					return fmt.Errorf("normalizers[%d]: BertNormalizer must come first and once", i)
				}
				if err := parseNormalizer(r, opts); err != nil {
					return err
				}
				bert = true
			case "Lowercase":
				opts.Lowercase = true
			case "NFD":
				nfd = true
			case "StripAccents":
				if !nfd {
					return fmt.Errorf("normalizers[%d]: StripAccents without a preceding NFD is not supported", i)
				}
				yes := true
				opts.StripAccents = &yes
			default:
				return fmt.Errorf("normalizers[%d]: type %q is not supported", i, e.Type)
			}
		}
		if nfd && (opts.StripAccents == nil || !*opts.StripAccents) {
			return fmt.Errorf("NFD without StripAccents is not supported")
		}
		return nil
	}
	return fmt.Errorf("type %q is not supported (BertNormalizer or a simple Sequence)", n.Type)
}

// checkPreTokenizer accepts BertPreTokenizer, alone or as the only member of
// a Sequence, which is the splitting this package implements.
func checkPreTokenizer(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return fmt.Errorf("missing (BertPreTokenizer expected)")
	}
	var p struct {
		Type          string            `json:"type"`
		PreTokenizers []json.RawMessage `json:"pretokenizers"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return err
	}
	if p.Type == "Sequence" && len(p.PreTokenizers) == 1 {
		return checkPreTokenizer(p.PreTokenizers[0])
	}
	if p.Type != "BertPreTokenizer" {
		return fmt.Errorf("type %q is not supported (only BertPreTokenizer)", p.Type)
	}
	return nil
}

// applyTokenizerConfig overrides opts with the keys of a
// tokenizer_config.json that are present: do_lower_case, strip_accents
// (null means "follow lower-casing") and tokenize_chinese_chars.
func applyTokenizerConfig(path string, opts *Options) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("tokenizer config: %w", err)
	}
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(data, &cfg); err != nil {
		return jsonError(path, data, err)
	}
	boolKey := func(key string, dst *bool) error {
		raw, ok := cfg[key]
		if !ok || string(raw) == "null" {
			return nil
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return fmt.Errorf("%s: %s: %s is not a boolean", path, key, raw)
		}
		return nil
	}
	if err := boolKey("do_lower_case", &opts.Lowercase); err != nil {
		return err
	}
	if err := boolKey("tokenize_chinese_chars", &opts.TokenizeChineseChars); err != nil {
		return err
	}
	if raw, ok := cfg["strip_accents"]; ok {
		if string(raw) == "null" {
			opts.StripAccents = nil
		} else {
			var b bool
			if err := json.Unmarshal(raw, &b); err != nil {
				return fmt.Errorf("%s: strip_accents: %s is not a boolean or null", path, raw)
			}
			opts.StripAccents = &b
		}
	}
	return nil
}

// jsonError names the line and column of a JSON syntax or type error.
func jsonError(path string, data []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 {
		return fmt.Errorf("%s: bad JSON: %w", path, err)
	}
	off = min(off, int64(len(data)))
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	col := off - int64(bytes.LastIndexByte(data[:off], '\n'))
	return fmt.Errorf("%s:%d:%d: bad JSON: %w", path, line, col, err)
}
