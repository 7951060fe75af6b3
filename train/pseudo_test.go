package train

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/splade-go/splade/corpus"
)

func TestSentences(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"One. Two three.", []string{"One.", "Two three."}},
		{"Levels rose (p < 0.05). Smith et al. found that e.g. mice respond. 12 were lost!",
			[]string{"Levels rose (p < 0.05).", "Smith et al. found that e.g. mice respond.", "12 were lost!"}},
		{"Dose was 1.5 mg. Vs. placebo it worked", []string{"Dose was 1.5 mg.", "Vs. placebo it worked"}},
		{"J. K. Rowling wrote. Then what?", []string{"J. K. Rowling wrote.", "Then what?"}},
		{"no end", []string{"no end"}},
		{"  ", nil},
		{"Quoted end.\" Next one.", []string{"Quoted end.\"", "Next one."}},
	} {
		if got := Sentences(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Sentences(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func pseudoDocs() []corpus.Doc {
	return []corpus.Doc{
		{ID: "a", Title: "Aspirin lowers fever", Text: "Aspirin reduces body temperature in adults. The effect lasts hours. Children were not studied in this trial."},
		{ID: "b", Title: "Fever in children", Text: "Fever is common in children with infections. Paracetamol is often used to lower temperature in children."},
		{ID: "c", Title: "Heart disease and aspirin", Text: "Daily aspirin lowers the risk of heart attacks in adults. Bleeding is a known side effect of daily aspirin."},
		{ID: "d", Title: "", Text: "Untitled note about sleep and memory in adults. Sleep helps memory consolidation in adults."},
	}
}

func TestPseudoTriples(t *testing.T) {
	docs := pseudoDocs()
	texts := map[string]corpus.Doc{}
	for _, d := range docs {
		texts[d.ID] = d
	}
	calls := 0
	ts, err := PseudoTriples(docs, PseudoOptions{Kinds: []string{PseudoTitle, PseudoSentence}, SentencesPerDoc: 1,
		MinWords: 3, NegDepth: 2, Seed: 7}, func() { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if calls != len(docs) {
		t.Errorf("progress called %d times for %d documents", calls, len(docs))
	}
	kinds := map[string]int{}
	for _, tr := range ts {
		kinds[tr.Kind]++
		src := texts[tr.Source]
		switch tr.Kind {
		case PseudoTitle:
			if tr.Query != src.Title || tr.Pos != src.Text {
				t.Errorf("title triple of %s: query %q, positive %q", tr.Source, tr.Query, tr.Pos)
			}
		case PseudoSentence:
			if !strings.Contains(src.Text, tr.Query) || strings.Contains(tr.Pos, tr.Query) {
				t.Errorf("sentence triple of %s: the query %q must come from the text and be removed from the positive %q", tr.Source, tr.Query, tr.Pos)
			}
			if src.Title != "" && !strings.HasPrefix(tr.Pos, src.Title+" ") {
				t.Errorf("sentence triple of %s: the positive %q lost the title", tr.Source, tr.Pos)
			}
		}
		if tr.Neg == "" || strings.Contains(tr.Neg, src.Text) || (src.Title != "" && strings.Contains(tr.Neg, src.Title)) {
			t.Errorf("triple of %s: negative %q is empty or the source itself", tr.Source, tr.Neg)
		}
	}
	// d has no title: three title triples; every document has sentences.
	if kinds[PseudoTitle] != 3 || kinds[PseudoSentence] != 4 {
		t.Errorf("got %v triples by kind, want 3 title and 4 sentence", kinds)
	}
	again, err := PseudoTriples(docs, PseudoOptions{Kinds: []string{PseudoTitle, PseudoSentence}, SentencesPerDoc: 1,
		MinWords: 3, NegDepth: 2, Seed: 7}, nil)
	if err != nil || !reflect.DeepEqual(again, ts) {
		t.Errorf("same seed, different triples (%v)", err)
	}
}

func TestPseudoTriplesErrors(t *testing.T) {
	docs := pseudoDocs()
	for _, c := range []struct {
		docs []corpus.Doc
		opt  PseudoOptions
		want string
	}{
		{docs, PseudoOptions{}, "no kind"},
		{docs, PseudoOptions{Kinds: []string{"abstract"}}, "unknown kind"},
		{docs[:1], PseudoOptions{Kinds: []string{PseudoTitle}}, "at least 2 documents"},
		{docs, PseudoOptions{Kinds: []string{PseudoSentence}, MinWords: 50, MaxWords: 60}, "no triple"},
	} {
		_, err := PseudoTriples(c.docs, c.opt, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want an error containing %q", c.opt, err, c.want)
		}
	}
}

// TestSampleMixesQueriesAndTriples checks that judged queries and triples
// share one stream: every item of an epoch appears once.
func TestSampleMixesQueriesAndTriples(t *testing.T) {
	d := &Data{
		Docs:      map[string]string{"d1": "x", "d2": "y", "d3": "z"},
		DocIDs:    []string{"d1", "d2", "d3"},
		Queries:   map[string]string{"q1": "x", "q2": "y"},
		Qrels:     map[string]map[string]int{"q1": {"d1": 1}, "q2": {"d2": 1}},
		Train:     []string{"q1", "q2"},
		Negatives: map[string][]string{"q1": {"d3"}, "q2": {"d3"}},
	}
	if err := d.ParseTriples(strings.NewReader("query one\tpassage one\tpassage two\nquery two\tpassage two\tpassage one\n"), "t.tsv"); err != nil {
		t.Fatal(err)
	}
	if len(d.DocIDs) != 3 {
		t.Errorf("text triples beside a corpus joined the evaluation collection: %v", d.DocIDs)
	}
	exs, err := d.Sample(3, 0, 4, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, ex := range exs {
		seen[ex.Query]++
		if d.Docs[ex.Pos] == "" || d.Docs[ex.Neg] == "" {
			t.Errorf("example %+v names a document without text", ex)
		}
	}
	if len(seen) != 4 {
		t.Errorf("one epoch of 2 queries + 2 triples drew %v", seen)
	}
}

// TestSampleTripleShare: with a share, every batch has that many triples,
// and both streams cover their items once per epoch of their own.
func TestSampleTripleShare(t *testing.T) {
	d := &Data{
		Docs:      map[string]string{"d1": "x", "d2": "y", "d3": "z"},
		DocIDs:    []string{"d1", "d2", "d3"},
		Queries:   map[string]string{"q1": "x", "q2": "y"},
		Qrels:     map[string]map[string]int{"q1": {"d1": 1}, "q2": {"d2": 1}},
		Train:     []string{"q1", "q2"},
		Negatives: map[string][]string{"q1": {"d3"}, "q2": {"d3"}},
	}
	var lines []string
	for i := 0; i < 6; i++ {
		lines = append(lines, fmt.Sprintf("query %d\tpassage %d\tpassage %d", i, i, i+1))
	}
	if err := d.ParseTriples(strings.NewReader(strings.Join(lines, "\n")), "t.tsv"); err != nil {
		t.Fatal(err)
	}
	d.TripleShare = 0.5
	judged, triples := map[string]int{}, map[string]int{}
	for step := 0; step < 3; step++ {
		exs, err := d.Sample(5, step, 4, 0)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := d.Sample(5, step, 4, 0)
		if !reflect.DeepEqual(exs, again) {
			t.Fatal("same (seed, step), different batch")
		}
		n := 0
		for _, ex := range exs {
			if _, ok := d.Queries[ex.Query]; ok && (ex.Query == "q1" || ex.Query == "q2") {
				judged[ex.Query]++
			} else {
				triples[ex.Query]++
				n++
			}
		}
		if n != 2 {
			t.Errorf("step %d: %d triples in a batch of 4 with share 0.5", step, n)
		}
	}
	// 3 steps x 2 judged = 3 epochs of 2 queries; 3 x 2 triples = 1 epoch of 6.
	if judged["q1"] != 3 || judged["q2"] != 3 || len(triples) != 6 {
		t.Errorf("judged draws %v, distinct triples %d (want 3 each, 6)", judged, len(triples))
	}
}
