package bm25

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

func buildIndex(t testing.TB, docs ...[2]string) *Index {
	t.Helper()
	b := NewBuilder(nil)
	for _, d := range docs {
		if err := b.Add(d[0], d[1]); err != nil {
			t.Fatal(err)
		}
	}
	return b.Build()
}

func search(t testing.TB, ix *Index, q string, k int) []Result {
	t.Helper()
	s, err := ix.NewSearcher(AnseriniParams)
	if err != nil {
		t.Fatal(err)
	}
	return s.Search(q, k)
}

// TestScores checks scores against BM25 computed by hand in float64 with
// Lucene's definitions (idf over documents with terms, avgdl from the
// exact total).
func TestScores(t *testing.T) {
	ix := buildIndex(t,
		[2]string{"d1", "Apple banana apples"}, // appl x2, banana: 3 terms
		[2]string{"d2", "banana cherry"},       // banana, cherri: 2 terms
		[2]string{"d3", "the of and"},          // only stop words: no terms
		[2]string{"d0", "apple"},               // appl: 1 term
	)
	if ix.NumDocs() != 4 || ix.DocCount() != 3 || ix.AvgDocLength() != 2 || ix.NumTerms() != 3 {
		t.Fatalf("NumDocs %d DocCount %d avgdl %v NumTerms %d, want 4 3 2 3",
			ix.NumDocs(), ix.DocCount(), ix.AvgDocLength(), ix.NumTerms())
	}
	bm25 := func(tf, dl, df float64) float64 {
		idf := math.Log(1 + (3-df+0.5)/(df+0.5))
		return idf * tf / (tf + 0.9*(1-0.4+0.4*dl/2))
	}
	tests := []struct {
		query string
		want  []Result
	}{
		{"apple", []Result{{"d1", float32(bm25(2, 3, 2))}, {"d0", float32(bm25(1, 1, 2))}}},
		{"APPLES apple", []Result{{"d1", float32(2 * bm25(2, 3, 2))}, {"d0", float32(2 * bm25(1, 1, 2))}}},
		{"cherries and bananas", []Result{{"d2", float32(bm25(1, 2, 1) + bm25(1, 2, 2))}, {"d1", float32(bm25(1, 3, 2))}}},
		{"durian", nil},
		{"the", nil},
	}
	for _, tc := range tests {
		got := search(t, ix, tc.query, 10)
		if len(got) != len(tc.want) {
			t.Errorf("%q: got %v, want %v", tc.query, got, tc.want)
			continue
		}
		for i := range got {
			if got[i].DocID != tc.want[i].DocID || math.Abs(float64(got[i].Score-tc.want[i].Score)) > 1e-6*float64(tc.want[i].Score) {
				t.Errorf("%q: result %d = %v, want %v", tc.query, i, got[i], tc.want[i])
			}
		}
	}
}

// TestLossyLength checks that long documents are normalized by their
// decoded one-byte norm, not their exact length: documents of 41 and 40
// terms (same norm byte) score the same.
func TestLossyLength(t *testing.T) {
	ix := buildIndex(t,
		[2]string{"long41", "needle" + strings.Repeat(" hay", 40)},
		[2]string{"long40", "needle" + strings.Repeat(" hay", 39)},
		[2]string{"long39", "needle" + strings.Repeat(" hay", 38)},
	)
	got := search(t, ix, "needle", 3)
	if len(got) != 3 || got[0].DocID != "long39" || got[1].Score != got[2].Score || got[0].Score <= got[1].Score {
		t.Fatalf("got %v: want long39 first, then long40 and long41 tied", got)
	}
	if got[1].DocID != "long40" {
		t.Errorf("tie broken as %v, want long40 (smaller id) first", got[1:])
	}
}

func TestTiesAndTopK(t *testing.T) {
	ix := buildIndex(t, [2]string{"b", "x"}, [2]string{"c", "x"}, [2]string{"a", "x"}, [2]string{"aa", "x"}, [2]string{"d", "x y"})
	tests := []struct {
		k    int
		want []string
	}{
		{1, []string{"a"}}, {3, []string{"a", "aa", "b"}}, {10, []string{"a", "aa", "b", "c", "d"}}, {0, nil},
	}
	for _, tc := range tests {
		var ids []string
		for _, r := range search(t, ix, "x", tc.k) {
			ids = append(ids, r.DocID)
		}
		if !slices.Equal(ids, tc.want) {
			t.Errorf("k=%d: got %v, want %v", tc.k, ids, tc.want)
		}
	}
}

func TestSearchAll(t *testing.T) {
	ix := buildIndex(t, [2]string{"q1", "red apple"}, [2]string{"d2", "green apple"}, [2]string{"d3", "red car"})
	queries := []Query{{"q1", "red apple"}, {"q2", "car"}, {"q3", "nothing matches"}}
	var calls atomic.Int64 // Progress is called from the workers
	res, err := ix.SearchAll(queries, Options{Params: AnseriniParams, K: 10, Workers: 2, RemoveQueryID: true, Progress: func() { calls.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(rs []Result) (out []string) {
		for _, r := range rs {
			out = append(out, r.DocID)
		}
		return out
	}
	if got := ids(res[0]); !slices.Equal(got, []string{"d2", "d3"}) {
		t.Errorf("q1 (its own document removed): %v", got)
	}
	if got := ids(res[1]); !slices.Equal(got, []string{"d3"}) {
		t.Errorf("q2: %v", got)
	}
	if len(res[2]) != 0 || calls.Load() != 3 {
		t.Errorf("q3: %v, progress calls %d", res[2], calls.Load())
	}
	for _, bad := range []Options{{Params: AnseriniParams}, {Params: Params{K1: -1, B: 0.4}, K: 1}, {Params: Params{K1: 1, B: 2}, K: 1}} {
		if _, err := ix.SearchAll(queries, bad); err == nil {
			t.Errorf("SearchAll(%+v) accepted", bad)
		}
	}
}

func TestBuilderErrors(t *testing.T) {
	b := NewBuilder(nil)
	if err := b.Add("a", "x"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "", "has space", "tab\t"} {
		if err := b.Add(id, "x"); err == nil {
			t.Errorf("Add(%q) accepted", id)
		}
	}
	b.Build()
	if err := b.Add("z", "x"); err == nil {
		t.Error("Add after Build accepted")
	}
}

// TestAdjustTies uses the example of Anserini's ScoreTiesAdjusterReranker.
func TestAdjustTies(t *testing.T) {
	rs := []Result{{"docA", 23.439316}, {"docS", 22.087432}, {"docT", 22.087432}, {"docU", 22.08743}, {"docZ", 21.602508}}
	AdjustTies(rs)
	want := []float32{23.4393, 22.0874, 22.0874 - 1e-6, 22.0874 - 2e-6, 21.6025}
	for i := range rs {
		if rs[i].Score != want[i] {
			t.Errorf("%s: %v, want %v", rs[i].DocID, rs[i].Score, want[i])
		}
	}
}

func TestHardNegatives(t *testing.T) {
	rs := []Result{{"d1", 9}, {"d2", 8}, {"d3", 7}, {"d4", 6}, {"d5", 5}}
	judged := map[string]int{"d2": 1, "d3": 0}
	got := HardNegatives("q", rs, judged, 3)
	want := []Negative{{"q", "d1", 1, 9}, {"q", "d3", 3, 7}, {"q", "d4", 4, 6}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	var buf bytes.Buffer
	if err := WriteNegatives(&buf, got); err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); s != "q\td1\t1\t9\nq\td3\t3\t7\nq\td4\t4\t6\n" {
		t.Errorf("written %q", s)
	}
	if err := WriteNegatives(&buf, []Negative{{QueryID: "q"}}); err == nil {
		t.Error("empty document id accepted")
	}
}
