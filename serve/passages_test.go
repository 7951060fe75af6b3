package serve

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/search"
	"github.com/splade-go/splade/sparse"
	"github.com/splade-go/splade/synth"
)

// passageIndex indexes synthetic vectors as passages: document "D<i>" has
// 1 to 4 passages "D<i>#<n>".
func passageIndex(t *testing.T) (*index.Index, *synth.Generator) {
	t.Helper()
	g := synth.New(synth.Options{Docs: 600, Queries: 10, Seed: 3})
	var recs []sparse.Record
	for i, doc := 0, 0; i < 600; doc++ {
		for n := 0; n < 1+doc%4 && i < 600; n, i = n+1, i+1 {
			r := g.Doc(i)
			id := fmt.Sprintf("D%d", doc)
			recs = append(recs, sparse.Record{ID: sparse.PassageID(id, n), Doc: id, Vector: r.Vector})
		}
	}
	return buildIndex(t, recs, index.BuildOptions{}), g
}

// On a passage index, search, filters and explain speak of documents, each
// scored by its best passage, which the responses name.
func TestPassageIndex(t *testing.T) {
	ix, g := passageIndex(t)
	s := newServer(t, Config{Index: ix})
	ref := search.New(ix)
	q := g.Query(2)
	want, err := ref.Search(q.Vector, search.Options{K: 10, Mode: search.BlockMax})
	if err != nil {
		t.Fatal(err)
	}
	code, body, _ := post(t, s, "/v1/search", SearchRequest{Query: Query{Vector: vectorJSON(q.Vector)}, K: 10, Explain: true})
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	resp := mustUnmarshal[SearchResponse](t, body)
	if len(resp.Hits) != 10 {
		t.Fatalf("%d hits", len(resp.Hits))
	}
	for i, h := range resp.Hits {
		if h.ID != want[i].ID || h.Passage != want[i].Passage || h.Score != want[i].Score || h.Passage == "" {
			t.Fatalf("hit %d: %+v, want %+v", i, h, want[i])
		}
		sum := 0.0
		for _, m := range h.Explanation.Matched {
			sum += m.Contribution
		}
		if d := sum - h.Score; d > 1e-9*h.Score || d < -1e-9*h.Score {
			t.Fatalf("hit %s: the explanation of passage %s sums to %v, score %v", h.ID, h.Passage, sum, h.Score)
		}
	}

	// Filtering by document ids: the documents' best passages, best first.
	filter := []string{resp.Hits[7].ID, resp.Hits[2].ID, resp.Hits[5].Passage}
	code, body, _ = post(t, s, "/v1/search", SearchRequest{Query: Query{Vector: vectorJSON(q.Vector)}, K: 10, FilterIDs: filter})
	if code != http.StatusOK {
		t.Fatalf("filter: status %d: %s", code, body)
	}
	fr := mustUnmarshal[SearchResponse](t, body)
	if len(fr.Hits) != 3 || fr.Hits[0].ID != resp.Hits[2].ID || fr.Hits[0].Passage != resp.Hits[2].Passage ||
		fr.Hits[1].ID != resp.Hits[5].ID || fr.Hits[2].ID != resp.Hits[7].ID || fr.Hits[2].Score != resp.Hits[7].Score {
		t.Fatalf("filtered hits %+v", fr.Hits)
	}

	// Explaining a document explains its best passage.
	code, body, _ = post(t, s, "/v1/explain", ExplainRequest{Query: Query{Vector: vectorJSON(q.Vector)}, ID: resp.Hits[0].ID})
	if code != http.StatusOK {
		t.Fatalf("explain: status %d: %s", code, body)
	}
	er := mustUnmarshal[ExplainResponse](t, body)
	if er.ID != resp.Hits[0].ID || er.Passage != resp.Hits[0].Passage || er.Score != resp.Hits[0].Score {
		t.Fatalf("explain %s: %+v, want passage %s score %v", resp.Hits[0].ID, er, resp.Hits[0].Passage, resp.Hits[0].Score)
	}

	code, body, _ = get(t, s, "/healthz")
	h := mustUnmarshal[HealthResponse](t, body)
	if code != http.StatusOK || h.Docs != ix.NumDocuments() || h.Passages != 600 {
		t.Fatalf("health %d %+v", code, h)
	}
}
