package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/splade-go/splade/search"
	"github.com/splade-go/splade/sparse"
)

// Query is a search query: text (encoded by the server's model) or a
// sparse vector {term: weight}, exactly one of them.
type Query struct {
	Text   string          `json:"text,omitempty"`
	Vector json.RawMessage `json:"vector,omitempty"`
}

// SearchRequest is the body of POST /v1/search.
type SearchRequest struct {
	Query
	K int `json:"k,omitempty"` // default 10
	// Mode is exact (Block-Max Pruning, the default), approximate, or one of
	// the query processors exhaustive, maxscore, blockmax, approx, seismic
	// (on an index built with splade index --seismic).
	Mode  string  `json:"mode,omitempty"`
	Alpha float64 `json:"alpha,omitempty"` // approx mode knob in (0, 1]
	// QueryCut (approx and seismic modes, in (0, 1]) and HeapFactor
	// (seismic, in (0, 100]): see search.Options; 0 = the default.
	QueryCut   float64 `json:"query_cut,omitempty"`
	HeapFactor float64 `json:"heap_factor,omitempty"`
	// Neighbors (seismic, on a structure with a graph): how many graph
	// neighbours of each best document are scored; 0 = all, -1 = none.
	Neighbors int `json:"neighbors,omitempty"`
	// FilterIDs, when not empty, restricts the search to these documents;
	// they are scored exactly, whatever the mode.
	FilterIDs []string `json:"filter_ids,omitempty"`
	Explain   bool     `json:"explain,omitempty"` // add an explanation to each hit
}

// ExplainRequest is the body of POST /v1/explain.
type ExplainRequest struct {
	Query
	// ID is an external document id; on a passage index, a document's
	// (its best passage for the query is explained) or a passage's.
	ID string `json:"id"`
}

// EncodeRequest is the body of POST /v1/encode.
type EncodeRequest struct {
	Texts []string `json:"texts"`
}

// TermWeight is one entry of a sparse vector. Expansion tells that the term
// is not one of the text's own WordPiece tokens: the model added it.
type TermWeight struct {
	Term      string  `json:"term"`
	Weight    float64 `json:"weight"`
	Expansion bool    `json:"expansion,omitempty"`
}

// Match is one term shared by the query and a document: its contribution
// to the score is QueryWeight x DocWeight, and the contributions of a
// document's matches sum to its score.
type Match struct {
	Term           string  `json:"term"`
	QueryWeight    float64 `json:"query_weight"`
	DocWeight      float64 `json:"doc_weight"`
	Contribution   float64 `json:"contribution"`
	QueryExpansion bool    `json:"query_expansion,omitempty"`
	DocExpansion   bool    `json:"doc_expansion,omitempty"`
}

// Explanation says why a document scored what it did.
type Explanation struct {
	Matched []Match `json:"matched"` // by decreasing contribution
	// DocTerms are the document's heaviest terms, present when the server
	// holds the document vectors (--vectors).
	DocTerms []TermWeight `json:"doc_terms,omitempty"`
}

// Hit is one ranked document.
type Hit struct {
	Rank        int          `json:"rank"`
	ID          string       `json:"id"`
	Score       float64      `json:"score"`
	Text        string       `json:"text,omitempty"` // when the server holds the corpus (--corpus)
	Explanation *Explanation `json:"explanation,omitempty"`
	// Passage is, on a passage index, the document's best passage, whose
	// score it takes and which the explanation is about.
	Passage string `json:"passage,omitempty"`
}

// QueryInfo describes the query vector that was searched.
type QueryInfo struct {
	Terms        []TermWeight `json:"terms"`         // by decreasing weight
	UnknownTerms []string     `json:"unknown_terms"` // terms absent from the index (no document has them)
}

// SearchResponse is the body of a successful search.
type SearchResponse struct {
	// Generation is the index generation that answered (it changes when
	// the server reloads a rebuilt index).
	Generation string    `json:"generation"`
	Query      QueryInfo `json:"query"`
	Mode       string    `json:"mode"`
	K          int       `json:"k"`
	Hits       []Hit     `json:"hits"`
	TookMS     float64   `json:"took_ms"`
}

// ExplainResponse is the body of a successful explain.
type ExplainResponse struct {
	Generation  string      `json:"generation"` // the index generation that answered
	ID          string      `json:"id"`
	Passage     string      `json:"passage,omitempty"` // the passage explained, on a passage index
	Score       float64     `json:"score"`
	Text        string      `json:"text,omitempty"`
	Query       QueryInfo   `json:"query"`
	Explanation Explanation `json:"explanation"`
}

// EncodeResponse is the body of a successful encode.
type EncodeResponse struct {
	Vectors []map[string]float32 `json:"vectors"`
	Terms   [][]TermWeight       `json:"terms"` // the same vectors by decreasing weight, expansion terms flagged
}

// HealthResponse is the body of GET /healthz.
type HealthResponse struct {
	Status      string `json:"status"`
	Generation  string `json:"generation"`         // the index generation served
	Docs        int    `json:"docs"`               // documents
	Passages    int    `json:"passages,omitempty"` // on a passage index
	Terms       int    `json:"terms"`
	TextSearch  bool   `json:"text_search"`
	Fingerprint string `json:"fingerprint,omitempty"`
	DocTexts    bool   `json:"doc_texts"`
	DocVectors  bool   `json:"doc_vectors"`
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	sn := s.acquire()
	defer sn.release()
	writeJSON(w, http.StatusOK, HealthResponse{
		Status: "ok", Generation: sn.gen, Docs: sn.ix.NumDocuments(), Passages: sn.passageCount(), Terms: sn.ix.NumTerms(), TextSearch: s.enc != nil,
		Fingerprint: sn.ix.Meta.Fingerprint, DocTexts: s.docs.hasTexts(), DocVectors: s.docs.hasVectors(),
	})
}

// reload serves POST /admin/reload (enabled by Config.AdminReload).
func (s *Server) reload(w http.ResponseWriter, r *http.Request) {
	res, err := s.Reload()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "reload failed, still serving generation %s: %v", res.Generation, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// decode parses one JSON object into v, rejecting unknown fields and
// trailing data.
func decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return badRequest("empty request body: expected a JSON object")
		}
		return badRequest("invalid JSON body: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("invalid JSON body: data after the object")
	}
	return nil
}

// queryVector turns a Query into the vector to search, and the tokens of
// its text (nil for a vector query) to flag expansion terms.
func (s *Server) queryVector(q Query) (sparse.Vector, map[string]bool, error) {
	hasVec := len(bytes.TrimSpace(q.Vector)) > 0 && !bytes.Equal(bytes.TrimSpace(q.Vector), []byte("null"))
	switch {
	case q.Text != "" && hasVec:
		return sparse.Vector{}, nil, badRequest("give either text or vector, not both")
	case hasVec:
		rec, err := sparse.ParseRecord(append(append([]byte(`{"id":"q","vector":`), q.Vector...), '}'))
		if err != nil {
			return sparse.Vector{}, nil, badRequest("invalid vector (an object {term: weight}): %v", err)
		}
		v := rec.Vector
		if len(v.Terms) == 0 {
			return sparse.Vector{}, nil, badRequest("empty query vector")
		}
		if len(v.Terms) > s.lim.MaxQueryTerms {
			return sparse.Vector{}, nil, badRequest("query vector has %d terms, more than the limit %d (--max-query-terms)", len(v.Terms), s.lim.MaxQueryTerms)
		}
		for i, w := range v.Weights {
			if w < 0 {
				return sparse.Vector{}, nil, badRequest("query term %q has negative weight %v", v.Terms[i], w)
			}
		}
		return v, nil, nil
	case strings.TrimSpace(q.Text) != "":
		if s.enc == nil {
			return sparse.Vector{}, nil, badRequest("search by text needs a model: this server was started without --model; send a vector instead")
		}
		if len(q.Text) > s.lim.MaxQueryChars {
			return sparse.Vector{}, nil, badRequest("query text has %d bytes, more than the limit %d (--max-query-chars)", len(q.Text), s.lim.MaxQueryChars)
		}
		vs, err := s.enc.Encode([]string{q.Text})
		if err != nil {
			return sparse.Vector{}, nil, fmt.Errorf("encoding the query: %w", err)
		}
		return vs[0], s.tokenSet(q.Text), nil
	default:
		return sparse.Vector{}, nil, badRequest("a query needs text or vector")
	}
}

// tokenSet returns the WordPiece tokens of text, or nil without a model.
func (s *Server) tokenSet(text string) map[string]bool {
	if s.enc == nil || text == "" {
		return nil
	}
	toks := s.enc.Tokenizer().Tokenize(text)
	set := make(map[string]bool, len(toks))
	for _, t := range toks {
		set[t] = true
	}
	return set
}

// termWeights lists a vector by decreasing weight (ties by term), flagging
// terms that are not tokens of the text when the tokens are known.
func termWeights(v sparse.Vector, tokens map[string]bool, limit int) []TermWeight {
	out := make([]TermWeight, 0, len(v.Terms))
	for i, t := range v.Terms {
		if v.Weights[i] == 0 {
			continue
		}
		out = append(out, TermWeight{Term: t, Weight: float64(v.Weights[i]), Expansion: tokens != nil && !tokens[t]})
	}
	slices.SortFunc(out, func(a, b TermWeight) int {
		if a.Weight != b.Weight {
			if a.Weight > b.Weight {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Term, b.Term)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

func parseMode(m string) (search.Mode, error) {
	switch m {
	case "", "exact":
		return search.BlockMax, nil
	case "approximate":
		return search.Approx, nil
	}
	mode, err := search.ParseMode(m)
	if err != nil {
		return 0, badRequest("mode %q: want exact, approximate, exhaustive, maxscore, blockmax, approx or seismic (an index with splade index --seismic)", m)
	}
	return mode, nil
}

func (s *Server) search(ctx context.Context, sn *snapshot, body []byte) (any, error) {
	start := time.Now()
	var req SearchRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.K == 0 {
		req.K = 10
	}
	if req.K < 1 || req.K > s.lim.MaxK {
		return nil, badRequest("k must be in [1, %d] (--max-k), got %d", s.lim.MaxK, req.K)
	}
	if req.Explain && req.K > s.lim.MaxExplainK {
		return nil, badRequest("explain is limited to k <= %d, got %d", s.lim.MaxExplainK, req.K)
	}
	mode, err := parseMode(req.Mode)
	if err != nil {
		return nil, err
	}
	if req.Alpha != 0 && !(req.Alpha > 0 && req.Alpha <= 1) {
		return nil, badRequest("alpha must be in (0, 1], got %v", req.Alpha)
	}
	if req.QueryCut != 0 && !(req.QueryCut > 0 && req.QueryCut <= 1) {
		return nil, badRequest("query_cut must be in (0, 1], got %v", req.QueryCut)
	}
	if req.HeapFactor != 0 && !(req.HeapFactor > 0 && req.HeapFactor <= 100) {
		return nil, badRequest("heap_factor must be in (0, 100], got %v", req.HeapFactor)
	}
	if req.Neighbors < -1 {
		return nil, badRequest("neighbors must be >= -1 (-1: none, 0: all the graph holds), got %d", req.Neighbors)
	}
	if len(req.FilterIDs) > s.lim.MaxFilterIDs {
		return nil, badRequest("filter_ids has %d ids, more than the limit %d (--max-filter-ids)", len(req.FilterIDs), s.lim.MaxFilterIDs)
	}
	v, tokens, err := s.queryVector(req.Query)
	if err != nil {
		return nil, err
	}
	q, info := sn.prepare(v, tokens)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var hits []search.Hit
	if len(req.FilterIDs) > 0 {
		docs, err := sn.resolve(req.FilterIDs)
		if err != nil {
			return nil, err
		}
		hits = sn.searcher.Documents(sn.scoreDocs(q, docs, len(docs)), req.K)
	} else {
		hits, err = sn.searcher.Search(v, search.Options{K: req.K, Mode: mode, Alpha: req.Alpha, QueryCut: req.QueryCut, HeapFactor: req.HeapFactor, Neighbors: req.Neighbors})
		if err != nil {
			return nil, badRequest("%v", err)
		}
	}
	resp := SearchResponse{Generation: sn.gen, Query: info, Mode: mode.String(), K: req.K, Hits: make([]Hit, len(hits))}
	if len(req.FilterIDs) > 0 {
		resp.Mode = "filter"
	}
	for i, h := range hits {
		resp.Hits[i] = Hit{Rank: i + 1, ID: h.ID, Score: h.Score, Text: s.docs.text(h.ID), Passage: h.Passage}
		if req.Explain {
			e := s.explainDoc(sn, q, h.Doc, h.ID)
			resp.Hits[i].Explanation = &e
		}
	}
	resp.TookMS = float64(time.Since(start).Microseconds()) / 1000
	return resp, nil
}

// resolve maps external ids to sorted internal ids; unknown ids are an
// error rather than silently ignored.
func (sn *snapshot) resolve(ids []string) ([]uint32, error) {
	docs := make([]uint32, 0, len(ids))
	var unknown []string
	for _, id := range ids {
		ds, ok := sn.lookup(id)
		if !ok {
			unknown = append(unknown, fmt.Sprintf("%q", id))
			continue
		}
		docs = append(docs, ds...)
	}
	if len(unknown) > 0 {
		more := ""
		if len(unknown) > 5 {
			more = fmt.Sprintf(" and %d more", len(unknown)-5)
			unknown = unknown[:5]
		}
		return nil, &requestError{http.StatusBadRequest, fmt.Sprintf("unknown document ids: %s%s", strings.Join(unknown, ", "), more)}
	}
	slices.Sort(docs)
	return slices.Compact(docs), nil
}

func (s *Server) explain(ctx context.Context, sn *snapshot, body []byte) (any, error) {
	var req ExplainRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.ID == "" {
		return nil, badRequest("id (the document to explain) is required")
	}
	v, tokens, err := s.queryVector(req.Query)
	if err != nil {
		return nil, err
	}
	ds, ok := sn.lookup(req.ID)
	if !ok {
		return nil, &requestError{http.StatusNotFound, fmt.Sprintf("unknown document id %q", req.ID)}
	}
	q, info := sn.prepare(v, tokens)
	// the best passage (the document itself on a document index)
	d, score := ds[0], 0.0
	if hits := sn.scoreDocs(q, ds, 1); len(hits) == 1 {
		d, score = hits[0].Doc, hits[0].Score
	}
	id := sn.ix.DocumentID(sn.ix.DocumentOf(d))
	e := s.explainDoc(sn, q, d, id)
	return ExplainResponse{Generation: sn.gen, ID: id, Passage: sn.passageID(d), Score: score, Text: s.docs.text(id), Query: info, Explanation: e}, nil
}

func (s *Server) encode(ctx context.Context, _ *snapshot, body []byte) (any, error) {
	var req EncodeRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if s.enc == nil {
		return nil, badRequest("encode needs a model: this server was started without --model")
	}
	if len(req.Texts) == 0 {
		return nil, badRequest("texts must hold at least one text")
	}
	if len(req.Texts) > s.lim.MaxTexts {
		return nil, badRequest("texts holds %d texts, more than the limit %d (--max-texts)", len(req.Texts), s.lim.MaxTexts)
	}
	for i, t := range req.Texts {
		if len(t) > s.lim.MaxQueryChars {
			return nil, badRequest("texts[%d] has %d bytes, more than the limit %d (--max-query-chars)", i, len(t), s.lim.MaxQueryChars)
		}
	}
	vs, err := s.enc.Encode(req.Texts)
	if err != nil {
		return nil, fmt.Errorf("encoding: %w", err)
	}
	resp := EncodeResponse{Vectors: make([]map[string]float32, len(vs)), Terms: make([][]TermWeight, len(vs))}
	for i, v := range vs {
		m := make(map[string]float32, len(v.Terms))
		for j, t := range v.Terms {
			m[t] = v.Weights[j]
		}
		resp.Vectors[i] = m
		resp.Terms[i] = termWeights(v, s.tokenSet(req.Texts[i]), 0)
	}
	return resp, nil
}
