package train

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode"

	"github.com/splade-go/splade/bm25"
	"github.com/splade-go/splade/corpus"
)

// Pseudo-queries: training triples made from an unlabeled collection, for
// domains with few or no judged queries (SciFact has 809). Two kinds, both
// classic weak supervision for first-stage retrievers:
//
//   - title: the title of a document is the query and its text without the
//     title the positive (titles read like queries and name what the text
//     is about);
//   - sentence: a sentence of the text is the query and the rest of the
//     text the positive (the Inverse Cloze Task of Lee et al., ACL 2019):
//     the model must find the context a statement came from without the
//     statement itself, so it learns term weighting and expansion rather
//     than copying.
//
// The negative is drawn among the first BM25 results of the pseudo-query
// (Anserini's BM25 over the whole collection), leaving out the source
// document: a hard negative, as for real queries. Its text has the same
// form as the positive's (without its title for title queries), so the
// model cannot tell them apart by form.

// Pseudo-query kinds.
const (
	PseudoTitle    = "title"
	PseudoSentence = "sentence"
)

// PseudoOptions configures PseudoTriples.
type PseudoOptions struct {
	Kinds           []string // PseudoTitle and/or PseudoSentence
	SentencesPerDoc int      // sentence queries per document (default 1)
	MinWords        int      // shortest sentence used as a query (default 5)
	MaxWords        int      // longest (default 40)
	NegDepth        int      // the negative is drawn among the first NegDepth BM25 results (default 20)
	Seed            uint64
}

// PseudoTriple is a text triple with the document it came from.
type PseudoTriple struct {
	Kind            string
	Source          string // id of the document the query and positive come from
	Query, Pos, Neg string
}

// PseudoTriples makes pseudo-query triples from docs. progress, when not
// nil, is called once per document searched. The result is a function of
// docs and opt.
func PseudoTriples(docs []corpus.Doc, opt PseudoOptions, progress func()) ([]PseudoTriple, error) {
	if opt.SentencesPerDoc <= 0 {
		opt.SentencesPerDoc = 1
	}
	if opt.MinWords <= 0 {
		opt.MinWords = 5
	}
	if opt.MaxWords <= 0 {
		opt.MaxWords = 40
	}
	if opt.NegDepth <= 0 {
		opt.NegDepth = 20
	}
	if len(opt.Kinds) == 0 {
		return nil, fmt.Errorf("pseudo-queries: no kind (want %s and/or %s)", PseudoTitle, PseudoSentence)
	}
	kinds := map[string]bool{}
	for _, k := range opt.Kinds {
		if k != PseudoTitle && k != PseudoSentence {
			return nil, fmt.Errorf("pseudo-queries: unknown kind %q (want %s or %s)", k, PseudoTitle, PseudoSentence)
		}
		kinds[k] = true
	}
	if len(docs) < 2 {
		return nil, fmt.Errorf("pseudo-queries: need at least 2 documents for negatives, have %d", len(docs))
	}
	b := bm25.NewBuilder(nil)
	for _, d := range docs {
		if err := b.Add(d.ID, d.Contents()); err != nil {
			return nil, fmt.Errorf("pseudo-queries: %w", err)
		}
	}
	ix := b.Build()
	s, err := ix.NewSearcher(bm25.AnseriniParams)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]int, len(docs))
	for i, d := range docs {
		byID[d.ID] = i
	}
	var out []PseudoTriple
	for i, d := range docs {
		rng := rand.New(rand.NewPCG(opt.Seed, uint64(i)))
		var made []PseudoTriple
		if kinds[PseudoTitle] && strings.TrimSpace(d.Title) != "" && strings.TrimSpace(d.Text) != "" {
			made = append(made, PseudoTriple{Kind: PseudoTitle, Source: d.ID, Query: d.Title, Pos: d.Text})
		}
		if kinds[PseudoSentence] {
			sents := Sentences(d.Text)
			var ok []int
			for k, st := range sents {
				if n := len(strings.Fields(st)); n >= opt.MinWords && n <= opt.MaxWords && len(sents) > 1 {
					ok = append(ok, k)
				}
			}
			rng.Shuffle(len(ok), func(a, b int) { ok[a], ok[b] = ok[b], ok[a] })
			for _, k := range ok[:min(len(ok), opt.SentencesPerDoc)] {
				rest := strings.Join(append(append([]string(nil), sents[:k]...), sents[k+1:]...), " ")
				pos := rest
				if d.Title != "" {
					pos = d.Title + " " + rest
				}
				made = append(made, PseudoTriple{Kind: PseudoSentence, Source: d.ID, Query: sents[k], Pos: pos})
			}
		}
		for _, t := range made {
			var negs []string
			for _, r := range s.Search(t.Query, opt.NegDepth+1) {
				if r.DocID != d.ID {
					negs = append(negs, r.DocID)
				}
			}
			if len(negs) == 0 {
				continue // nothing shares a term with the query: no hard negative
			}
			nd := docs[byID[negs[rng.IntN(min(len(negs), opt.NegDepth))]]]
			t.Neg = nd.Contents()
			if t.Kind == PseudoTitle && strings.TrimSpace(nd.Text) != "" {
				t.Neg = nd.Text
			}
			out = append(out, t)
		}
		if progress != nil {
			progress()
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("pseudo-queries: no triple could be made (no titles or sentences of %d-%d words?)", opt.MinWords, opt.MaxWords)
	}
	return out, nil
}

// abbreviations end with a period that does not end a sentence.
var abbreviations = map[string]bool{
	"e.g": true, "i.e": true, "al": true, "vs": true, "fig": true, "figs": true, "approx": true,
	"ca": true, "cf": true, "dr": true, "mr": true, "mrs": true, "no": true, "resp": true, "etc": true,
}

// Sentences splits text into sentences: after '.', '!' or '?' followed by
// white space and an upper-case letter, a digit or an opening bracket,
// unless the word before the period is a known abbreviation or a single
// letter (an initial). Good enough for abstracts; not a general segmenter.
func Sentences(text string) []string {
	rs := []rune(text)
	var out []string
	start := 0
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		if c != '.' && c != '!' && c != '?' {
			continue
		}
		j := i + 1
		for j < len(rs) && (rs[j] == '"' || rs[j] == '\'' || rs[j] == ')') {
			j++
		}
		if j >= len(rs) || !unicode.IsSpace(rs[j]) {
			continue
		}
		k := j
		for k < len(rs) && unicode.IsSpace(rs[k]) {
			k++
		}
		if k >= len(rs) || !(unicode.IsUpper(rs[k]) || unicode.IsDigit(rs[k]) || rs[k] == '(' || rs[k] == '[') {
			continue
		}
		if c == '.' {
			w := i
			for w > start && !unicode.IsSpace(rs[w-1]) {
				w--
			}
			word := strings.ToLower(strings.TrimLeft(string(rs[w:i]), "(["))
			if abbreviations[word] || len([]rune(word)) == 1 {
				continue
			}
		}
		if s := strings.TrimSpace(string(rs[start:j])); s != "" {
			out = append(out, s)
		}
		start = k
		i = k - 1
	}
	if s := strings.TrimSpace(string(rs[start:])); s != "" {
		out = append(out, s)
	}
	return out
}
