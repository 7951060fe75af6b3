package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/search"
	"github.com/splade-go/splade/sparse"
	"github.com/splade-go/splade/synth"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestSearchVectorMatchesSearcher(t *testing.T) {
	ix, g := synthIndex(t, 400, "")
	s := newServer(t, Config{Index: ix})
	ref := search.New(ix)
	for _, mode := range []string{"", "exact", "exhaustive", "maxscore", "blockmax", "approx", "approximate"} {
		for qi := range 5 {
			q := g.Query(qi)
			code, body, _ := post(t, s, "/v1/search", SearchRequest{Query: Query{Vector: vectorJSON(q.Vector)}, K: 10, Mode: mode})
			if code != http.StatusOK {
				t.Fatalf("mode %q: status %d: %s", mode, code, body)
			}
			resp := mustUnmarshal[SearchResponse](t, body)
			m, err := parseMode(mode)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ref.Search(q.Vector, search.Options{K: 10, Mode: m})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Hits) != len(want) || len(want) == 0 {
				t.Fatalf("mode %q query %d: %d hits, want %d (> 0)", mode, qi, len(resp.Hits), len(want))
			}
			for i, h := range resp.Hits {
				if h.ID != want[i].ID || h.Score != want[i].Score || h.Rank != i+1 {
					t.Errorf("mode %q query %d hit %d: %+v, want %+v", mode, qi, i, h, want[i])
				}
			}
			if resp.Mode != m.String() {
				t.Errorf("mode %q reported as %q", mode, resp.Mode)
			}
		}
	}
}

// TestWarmViews checks that a server with WarmViews builds the bound views
// of the index it serves, all of them, and reports it.
func TestWarmViews(t *testing.T) {
	ix, g := synthIndex(t, 400, "")
	var logs bytes.Buffer
	s := newServer(t, Config{Index: ix, WarmViews: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	s.warming.Wait()
	built := ix.ViewBytes()
	st, err := ix.WarmBoundViews(context.Background())
	if err != nil || st.Terms == 0 || st.Bytes != built || built == 0 {
		t.Fatalf("after the server's warm-up: %d bytes, then %+v, %v: want every view built already", built, st, err)
	}
	if !strings.Contains(logs.String(), "bound views built") {
		t.Fatalf("no warm-up in the log:\n%s", logs.String())
	}
	code, body, _ := post(t, s, "/v1/search", SearchRequest{Query: Query{Vector: vectorJSON(g.Query(0).Vector)}, K: 10, Mode: "blockmax"})
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	s.Close()
}

// A filtered search scores the listed documents exactly: it must return the
// exhaustive ranking restricted to them, with the same scores.
func TestFilterEqualsRestrictedExhaustive(t *testing.T) {
	ix, g := synthIndex(t, 400, "")
	recs := make([]sparse.Record, 400)
	for i := range recs {
		recs[i] = g.Doc(i)
	}
	// Filtered scores must be the searcher's bit for bit, which holds only
	// if products are added in the searcher's order; on the u8 index the
	// products are short enough that most sums are exact in any order, on
	// the f32 one they are not.
	for _, ix := range []*index.Index{ix, buildIndex(t, recs, index.BuildOptions{Quantize: index.QuantF32})} {
		s := newServer(t, Config{Index: ix})
		ref := search.New(ix)
		for qi := 3; qi < 13; qi++ {
			filterEqualsExhaustive(t, s, ref, ix, g.Query(qi))
		}
	}
}

func filterEqualsExhaustive(t *testing.T, s *Server, ref *search.Searcher, ix *index.Index, q sparse.Record) {
	t.Helper()
	all, err := ref.Search(q.Vector, search.Options{K: ix.NumDocs(), Mode: search.Exhaustive})
	if err != nil {
		t.Fatal(err)
	}
	var filter []string
	var want []search.Hit
	for i, h := range all {
		if i%3 == 1 {
			filter = append(filter, h.ID)
			want = append(want, h)
		}
	}
	// A document sharing no term with the query is never a hit.
	matched := map[string]bool{}
	for _, h := range all {
		matched[h.ID] = true
	}
	for d := range ix.NumDocs() {
		if id := ix.DocID(uint32(d)); !matched[id] {
			filter = append(filter, id)
			break
		}
	}
	filter = append(filter, filter[0]) // repeated ids count once
	code, body, _ := post(t, s, "/v1/search", SearchRequest{Query: Query{Vector: vectorJSON(q.Vector)}, K: 15, FilterIDs: filter, Mode: "approximate"})
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	resp := mustUnmarshal[SearchResponse](t, body)
	if resp.Mode != "filter" || len(resp.Hits) != min(15, len(want)) {
		t.Fatalf("mode %q, %d hits, want filter and %d", resp.Mode, len(resp.Hits), min(15, len(want)))
	}
	for i, h := range resp.Hits {
		if h.ID != want[i].ID || h.Score != want[i].Score {
			t.Errorf("hit %d: %s %v, want %s %v", i, h.ID, h.Score, want[i].ID, want[i].Score)
		}
	}
}

// Explanations decompose the score: contributions are query weight x
// document weight and sum to the score.
func TestExplainDecomposesScore(t *testing.T) {
	ix, g := synthIndex(t, 300, "")
	s := newServer(t, Config{Index: ix})
	q := g.Query(5)
	code, body, _ := post(t, s, "/v1/search", SearchRequest{Query: Query{Vector: vectorJSON(q.Vector)}, K: 5, Explain: true})
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	resp := mustUnmarshal[SearchResponse](t, body)
	qw := map[string]float64{}
	for i, term := range q.Vector.Terms {
		qw[term] += float64(q.Vector.Weights[i])
	}
	for _, h := range resp.Hits {
		if h.Explanation == nil || len(h.Explanation.Matched) == 0 {
			t.Fatalf("hit %s has no matched terms", h.ID)
		}
		var sum float64
		prev := math.Inf(1)
		for _, m := range h.Explanation.Matched {
			if float32(m.QueryWeight) != float32(qw[m.Term]) {
				t.Errorf("%s: query weight of %q = %v, want %v", h.ID, m.Term, m.QueryWeight, qw[m.Term])
			}
			if d := math.Abs(m.Contribution - m.QueryWeight*m.DocWeight); d > 1e-12*math.Abs(m.Contribution) {
				t.Errorf("%s: contribution %v != %v x %v", h.ID, m.Contribution, m.QueryWeight, m.DocWeight)
			}
			if m.Contribution > prev {
				t.Errorf("%s: matches not by decreasing contribution", h.ID)
			}
			prev = m.Contribution
			sum += m.Contribution
		}
		if math.Abs(sum-h.Score) > 1e-9*h.Score {
			t.Errorf("%s: contributions sum to %v, score %v", h.ID, sum, h.Score)
		}
		// The same explanation from /v1/explain.
		code, body, _ := post(t, s, "/v1/explain", ExplainRequest{Query: Query{Vector: vectorJSON(q.Vector)}, ID: h.ID})
		if code != http.StatusOK {
			t.Fatalf("explain status %d: %s", code, body)
		}
		er := mustUnmarshal[ExplainResponse](t, body)
		if er.Score != h.Score || len(er.Explanation.Matched) != len(h.Explanation.Matched) {
			t.Errorf("explain %s: score %v with %d matches, search said %v with %d", h.ID, er.Score, len(er.Explanation.Matched), h.Score, len(h.Explanation.Matched))
		}
	}
}

func TestTextSearchExplainsExpansion(t *testing.T) {
	fx := textIndex(t)
	s := newServer(t, Config{Index: fx.ix, Encoder: fx.enc, Docs: fx.docs, DocTerms: 8})
	text := englishDocs[0].text
	code, body, _ := post(t, s, "/v1/search", SearchRequest{Query: Query{Text: text}, K: 3, Explain: true})
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	resp := mustUnmarshal[SearchResponse](t, body)
	if len(resp.Hits) == 0 {
		t.Fatal("no hits")
	}
	// The query vector is the encoder's, sorted by weight, and a term is
	// flagged as expansion exactly when it is not a token of the text.
	want, err := fx.enc.Encode([]string{text})
	if err != nil {
		t.Fatal(err)
	}
	toks := map[string]bool{}
	for _, tk := range fx.enc.Tokenizer().Tokenize(text) {
		toks[tk] = true
	}
	if len(resp.Query.Terms) != len(want[0].Terms) {
		t.Fatalf("query has %d terms, encoder gives %d", len(resp.Query.Terms), len(want[0].Terms))
	}
	var expansions, written int
	for i, tw := range resp.Query.Terms {
		if i > 0 && tw.Weight > resp.Query.Terms[i-1].Weight {
			t.Errorf("query terms not by decreasing weight at %d", i)
		}
		if tw.Expansion == toks[tw.Term] {
			t.Errorf("term %q: expansion=%v but token of the text=%v", tw.Term, tw.Expansion, toks[tw.Term])
		}
		if tw.Expansion {
			expansions++
		} else {
			written++
		}
	}
	if expansions == 0 || written == 0 {
		t.Errorf("want both written (%d) and expansion (%d) query terms", written, expansions)
	}
	top := resp.Hits[0]
	if top.Text == "" || top.Explanation == nil || len(top.Explanation.DocTerms) != 8 {
		t.Fatalf("top hit lacks text or 8 doc terms: %+v", top)
	}
	docVec := fx.vectors[top.ID]
	dw := map[string]float32{}
	for i, term := range docVec.Terms {
		dw[term] = docVec.Weights[i]
	}
	for _, m := range top.Explanation.Matched {
		// u8 quantization: round(w/scale) steps, at least one.
		step := fx.ix.Scale()
		want := max(1, math.Round(float64(dw[m.Term])/step)) * step
		if math.Abs(m.DocWeight-want) > 1e-9*want {
			t.Errorf("doc weight of %q = %v, vector says %v", m.Term, m.DocWeight, dw[m.Term])
		}
	}
	// Encode returns the same vector.
	code, body, _ = post(t, s, "/v1/encode", EncodeRequest{Texts: []string{text, "birds"}})
	if code != http.StatusOK {
		t.Fatalf("encode status %d: %s", code, body)
	}
	er := mustUnmarshal[EncodeResponse](t, body)
	if len(er.Vectors) != 2 || len(er.Vectors[0]) != len(want[0].Terms) {
		t.Fatalf("encode returned %d vectors, first with %d terms", len(er.Vectors), len(er.Vectors[0]))
	}
	for i, term := range want[0].Terms {
		if er.Vectors[0][term] != want[0].Weights[i] {
			t.Errorf("encode %q = %v, want %v", term, er.Vectors[0][term], want[0].Weights[i])
		}
	}
}

func TestFingerprintMismatchRefused(t *testing.T) {
	fx := textIndex(t)
	ix, _ := synthIndex(t, 50, "another-model")
	if _, err := New(Config{Index: ix, Encoder: fx.enc, Logger: discardLogger()}); err == nil || !strings.Contains(err.Error(), "fingerprint") {
		t.Fatalf("New with mismatched fingerprint: %v", err)
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without index succeeded")
	}
}

func TestRequestErrors(t *testing.T) {
	ix, g := synthIndex(t, 100, "")
	s := newServer(t, Config{Index: ix, Limits: Limits{MaxBodyBytes: 4096, MaxQueryTerms: 50, MaxK: 100, MaxFilterIDs: 3, MaxExplainK: 20}})
	vec := string(vectorJSON(g.Query(0).Vector))
	big := sparse.Vector{}
	for i := range 51 {
		big.Terms = append(big.Terms, "t"+strings.Repeat("x", i))
		big.Weights = append(big.Weights, 1)
	}
	for _, tc := range []struct {
		name, path, body string
		code             int
		msg              string
	}{
		{"empty body", "/v1/search", "", 400, "empty request body"},
		{"bad json", "/v1/search", "{", 400, "invalid JSON"},
		{"trailing data", "/v1/search", `{"vector":` + vec + `} {}`, 400, "data after"},
		{"unknown field", "/v1/search", `{"vector":` + vec + `,"top":3}`, 400, "unknown field"},
		{"no query", "/v1/search", `{"k":3}`, 400, "needs text or vector"},
		{"both", "/v1/search", `{"text":"a","vector":` + vec + `}`, 400, "not both"},
		{"text without model", "/v1/search", `{"text":"tides"}`, 400, "--model"},
		{"k too large", "/v1/search", `{"k":101,"vector":` + vec + `}`, 400, "k must be in [1, 100]"},
		{"k negative", "/v1/search", `{"k":-1,"vector":` + vec + `}`, 400, "k must be"},
		{"explain k", "/v1/search", `{"k":21,"explain":true,"vector":` + vec + `}`, 400, "explain is limited"},
		{"bad mode", "/v1/search", `{"mode":"fast","vector":` + vec + `}`, 400, "mode \"fast\""},
		{"bad alpha", "/v1/search", `{"mode":"approx","alpha":1.5,"vector":` + vec + `}`, 400, "alpha"},
		{"bad query cut", "/v1/search", `{"mode":"approx","query_cut":2,"vector":` + vec + `}`, 400, "query_cut"},
		{"bad heap factor", "/v1/search", `{"mode":"seismic","heap_factor":-1,"vector":` + vec + `}`, 400, "heap_factor"},
		{"bad neighbors", "/v1/search", `{"mode":"seismic","neighbors":-2,"vector":` + vec + `}`, 400, "neighbors"},
		{"seismic without structure", "/v1/search", `{"mode":"seismic","vector":` + vec + `}`, 400, "--seismic"},
		{"negative weight", "/v1/search", `{"vector":{"t1":-1}}`, 400, "negative"},
		{"repeated term", "/v1/search", `{"vector":{"t1":1,"t1":2}}`, 400, "invalid vector"},
		{"vector not object", "/v1/search", `{"vector":[1,2]}`, 400, "invalid vector"},
		{"empty vector", "/v1/search", `{"vector":{}}`, 400, "empty query vector"},
		{"too many terms", "/v1/search", `{"vector":` + string(vectorJSON(big)) + `}`, 400, "more than the limit 50"},
		{"too many filter ids", "/v1/search", `{"filter_ids":["a","b","c","d"],"vector":` + vec + `}`, 400, "filter_ids has 4"},
		{"unknown filter id", "/v1/search", `{"filter_ids":["nope"],"vector":` + vec + `}`, 400, `unknown document ids: "nope"`},
		{"body too large", "/v1/search", `{"text":"` + strings.Repeat("a", 5000) + `"}`, 413, "larger than 4096"},
		{"explain without id", "/v1/explain", `{"vector":` + vec + `}`, 400, "id (the document"},
		{"explain unknown id", "/v1/explain", `{"id":"nope","vector":` + vec + `}`, 404, "unknown document id"},
		{"encode without model", "/v1/encode", `{"texts":["a"]}`, 400, "--model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, hdr := post(t, s, tc.path, tc.body)
			if code != tc.code {
				t.Fatalf("status %d, want %d: %s", code, tc.code, body)
			}
			e := mustUnmarshal[apiError](t, body)
			if e.Status != tc.code || !strings.Contains(e.Error, tc.msg) {
				t.Errorf("error %+v, want status %d and a message with %q", e, tc.code, tc.msg)
			}
			if ct := hdr.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	t.Run("wrong content type", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, "/v1/search", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "text/plain")
		rec := newRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnsupportedMediaType {
			t.Fatalf("status %d", rec.Code)
		}
	})
	t.Run("wrong method", func(t *testing.T) {
		code, body, hdr := get(t, s, "/v1/search")
		if code != http.StatusMethodNotAllowed || hdr.Get("Allow") != "POST" || !strings.Contains(string(body), "POST") {
			t.Fatalf("GET /v1/search: %d %q %s", code, hdr.Get("Allow"), body)
		}
		if code, body, _ := get(t, s, "/v1/nothing"); code != http.StatusNotFound || !strings.Contains(string(body), "no endpoint") {
			t.Fatalf("GET /v1/nothing: %d %s", code, body)
		}
	})
}

func TestTextLimits(t *testing.T) {
	fx := textIndex(t)
	s := newServer(t, Config{Index: fx.ix, Encoder: fx.enc, Limits: Limits{MaxQueryChars: 20, MaxTexts: 2}})
	for _, tc := range []struct {
		name, path, body, msg string
	}{
		{"long query", "/v1/search", `{"text":"` + strings.Repeat("tide ", 5) + `"}`, "more than the limit 20"},
		{"too many texts", "/v1/encode", `{"texts":["a","b","c"]}`, "more than the limit 2"},
		{"no texts", "/v1/encode", `{"texts":[]}`, "at least one"},
		{"long text", "/v1/encode", `{"texts":["` + strings.Repeat("b", 21) + `"]}`, "texts[0] has 21 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, _ := post(t, s, tc.path, tc.body)
			if code != http.StatusBadRequest || !strings.Contains(string(body), tc.msg) {
				t.Fatalf("status %d body %s, want 400 with %q", code, body, tc.msg)
			}
		})
	}
}

func TestBusyAndTimeout(t *testing.T) {
	ix, g := synthIndex(t, 50, "")
	s := newServer(t, Config{Index: ix, Limits: Limits{MaxConcurrent: 1, Timeout: 50 * time.Millisecond}})
	vec := SearchRequest{Query: Query{Vector: vectorJSON(g.Query(0).Vector)}}

	// A failure inside the work is a 500 with a JSON error, and frees the slot.
	boom := s.limited(func(ctx context.Context, _ *snapshot, body []byte) (any, error) { panic("boom") })
	rec := newRecorder()
	boom.ServeHTTP(rec, mustRequest(t, http.MethodPost, "/v1/search", "{}"))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "internal error: boom") {
		t.Fatalf("panic: status %d: %s", rec.Code, rec.Body)
	}
	if code, body, _ := post(t, s, "/v1/search", vec); code != http.StatusOK {
		t.Fatalf("after a failure: status %d: %s", code, body)
	}

	s.sem <- struct{}{} // a request holds the only slot
	code, body, hdr := post(t, s, "/v1/search", vec)
	if code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" || !strings.Contains(string(body), "busy") {
		t.Fatalf("busy: status %d Retry-After %q: %s", code, hdr.Get("Retry-After"), body)
	}
	<-s.sem

	release := make(chan struct{})
	slow := s.limited(func(ctx context.Context, _ *snapshot, body []byte) (any, error) {
		<-release
		return "late", nil
	})
	rec = newRecorder()
	slow.ServeHTTP(rec, mustRequest(t, http.MethodPost, "/v1/search", "{}"))
	if rec.Code != http.StatusGatewayTimeout || !strings.Contains(rec.Body.String(), "longer than") {
		t.Fatalf("timeout: status %d: %s", rec.Code, rec.Body)
	}
	// The timed-out work still holds its slot until it really ends.
	if code, _, _ := post(t, s, "/v1/search", vec); code != http.StatusServiceUnavailable {
		t.Fatalf("slot released before the work ended: status %d", code)
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, _, _ := post(t, s, "/v1/search", vec)
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot never released: status %d", code)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHealthMetricsAndAssets(t *testing.T) {
	ix, g := synthIndex(t, 60, "fp1")
	s := newServer(t, Config{Index: ix})
	code, body, _ := get(t, s, "/healthz")
	h := mustUnmarshal[HealthResponse](t, body)
	if code != 200 || h.Status != "ok" || h.Docs != 60 || h.TextSearch || h.Fingerprint != "fp1" {
		t.Fatalf("healthz %d %+v", code, h)
	}
	post(t, s, "/v1/search", SearchRequest{Query: Query{Vector: vectorJSON(g.Query(1).Vector)}})
	post(t, s, "/v1/search", SearchRequest{Query: Query{Vector: vectorJSON(g.Query(1).Vector)}})
	post(t, s, "/v1/search", `{"k":0}`)
	code, body, hdr := get(t, s, "/metrics")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %q", code, hdr.Get("Content-Type"))
	}
	for _, want := range []string{
		`splade_http_requests_total{code="200",endpoint="search"} 2`,
		`splade_http_requests_total{code="400",endpoint="search"} 1`,
		`splade_http_requests_total{code="200",endpoint="healthz"} 1`,
		`splade_http_request_duration_seconds_count{endpoint="search"} 3`,
		`splade_http_request_duration_seconds_bucket{endpoint="search",le="+Inf"} 3`,
		`splade_http_in_flight_requests 1`, // the scrape itself
		`splade_rejected_requests_total{reason="invalid"} 1`,
		`splade_index_documents 60`,
		`go_goroutines `,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	for path, want := range map[string]string{
		"/":             `id="search-form"`,
		"/app.js":       "v1/search",
		"/style.css":    ".chip",
		"/openapi.yaml": "openapi: 3",
	} {
		code, body, _ := get(t, s, path)
		if code != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, body lacks %q", path, code, want)
		}
	}
	if code, _, _ := get(t, s, "/nope.html"); code != http.StatusNotFound {
		t.Errorf("GET /nope.html: %d", code)
	}
}

// Every route is described in the OpenAPI document.
func TestOpenAPICoversRoutes(t *testing.T) {
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/v1/search", "/v1/explain", "/v1/encode", "/healthz", "/admin/reload", "/metrics", "/openapi.yaml", "/"} {
		if !strings.Contains(string(b), "\n  "+p+":\n") {
			t.Errorf("openapi.yaml does not describe %s", p)
		}
	}
	for _, f := range []string{"filter_ids", "explain", "alpha", "query_weight", "doc_weight", "contribution", "Retry-After"} {
		if !strings.Contains(string(b), f) {
			t.Errorf("openapi.yaml does not mention %s", f)
		}
	}
}

// Shutdown stops accepting connections and lets the request in flight
// finish.
func TestGracefulShutdown(t *testing.T) {
	ix, _ := synthIndex(t, 20, "")
	s := newServer(t, Config{Index: ix})
	started, release := make(chan struct{}), make(chan struct{})
	s.handle("GET /slow", "slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "done")
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln, 5*time.Second) }()
	base := "http://" + ln.Addr().String()
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-started
	cancel()
	// New connections are refused once the listener is closed.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections after shutdown began")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v with a request in flight", err)
	default:
	}
	close(release)
	if r := <-got; r != "done" {
		t.Fatalf("in-flight request: %q", r)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

func TestDocStoreErrors(t *testing.T) {
	dir := t.TempDir()
	dup := dir + "/dup.jsonl"
	os.WriteFile(dup, []byte(`{"id":"a","vector":{"x":1}}`+"\n"+`{"id":"a","vector":{"y":1}}`+"\n"), 0o644)
	var ds DocStore
	if _, err := ds.LoadVectors(dup, nil); err == nil || !strings.Contains(err.Error(), "dup.jsonl:2") {
		t.Errorf("duplicate id: %v", err)
	}
	if _, err := ds.LoadCorpus(dir+"/missing.tsv", nil); err == nil {
		t.Error("missing corpus loaded")
	}
	keep := func(id string) bool { return id == "b" }
	ds = DocStore{}
	two := dir + "/two.jsonl"
	os.WriteFile(two, []byte(`{"id":"a","vector":{"x":1}}`+"\n"+`{"id":"b","vector":{"y":2}}`+"\n"), 0o644)
	if n, err := ds.LoadVectors(two, keep); err != nil || n != 1 {
		t.Fatalf("keep: %d %v", n, err)
	}
	if _, ok := ds.vector("a"); ok {
		t.Error("vector a kept")
	}
	var none *DocStore
	if none.text("a") != "" || none.hasTexts() || none.hasVectors() {
		t.Error("nil store holds something")
	}
}

// FuzzSearchRequest: no request body makes the server fail with 5xx or
// panic; bad input is a 4xx with a JSON error.
func FuzzSearchRequest(f *testing.F) {
	ix, g := synthIndex(f, 40, "")
	s := newServer(f, Config{Index: ix, Limits: Limits{MaxBodyBytes: 1 << 14}})
	f.Add(`{"vector":` + string(vectorJSON(g.Query(0).Vector)) + `,"k":5,"explain":true}`)
	f.Add(`{"vector":{"t00001":1},"filter_ids":["` + synth.DocID(1) + `"]}`)
	f.Add(`{"vector":{"t00001":1e39}}`)
	f.Add(`{"text":"x","mode":"approx","alpha":0.5}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, body string) {
		for _, path := range []string{"/v1/search", "/v1/explain", "/v1/encode"} {
			code, resp, _ := post(t, s, path, body)
			if code >= 500 {
				t.Fatalf("%s %q: status %d: %s", path, body, code, resp)
			}
			if code != 200 {
				mustUnmarshal[apiError](t, resp)
			}
		}
	})
}

// Concurrent searches (some filtered, which builds the id map lazily) all
// return the same answers as sequential ones.
func TestConcurrentRequests(t *testing.T) {
	ix, g := synthIndex(t, 300, "")
	s := newServer(t, Config{Index: ix, Limits: Limits{MaxConcurrent: 64}})
	reqs := make([]SearchRequest, 8)
	want := make([]string, len(reqs))
	for i := range reqs {
		reqs[i] = SearchRequest{Query: Query{Vector: vectorJSON(g.Query(i).Vector)}, K: 5, Explain: i%2 == 0}
		if i%3 == 0 {
			reqs[i].FilterIDs = []string{synth.DocID(1), synth.DocID(2), synth.DocID(i + 3)}
		}
	}
	s2 := newServer(t, Config{Index: ix})
	for i, r := range reqs {
		_, body, _ := post(t, s2, "/v1/search", r)
		resp := mustUnmarshal[SearchResponse](t, body)
		resp.TookMS = 0
		b, _ := json.Marshal(resp)
		want[i] = string(b)
	}
	errs := make(chan string, 4*len(reqs))
	var wg sync.WaitGroup
	for range 4 {
		for i, r := range reqs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, body, _ := post(t, s, "/v1/search", r)
				if code != http.StatusOK {
					errs <- fmt.Sprintf("request %d: status %d: %s", i, code, body)
					return
				}
				var resp SearchResponse
				if err := json.Unmarshal(body, &resp); err != nil {
					errs <- err.Error()
					return
				}
				resp.TookMS = 0
				if b, _ := json.Marshal(resp); string(b) != want[i] {
					errs <- fmt.Sprintf("request %d: concurrent answer differs", i)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// BenchmarkSearchHandler measures a whole API search (JSON decoding,
// Block-Max Pruning, explanation, JSON encoding) on a synthetic index.
func BenchmarkSearchHandler(b *testing.B) {
	ix, g := synthIndex(b, 5000, "")
	s := newServer(b, Config{Index: ix, Limits: Limits{MaxConcurrent: 1}})
	for _, explain := range []bool{false, true} {
		b.Run(fmt.Sprintf("explain=%v", explain), func(b *testing.B) {
			bodies := make([][]byte, 16)
			for i := range bodies {
				bodies[i], _ = json.Marshal(SearchRequest{Query: Query{Vector: vectorJSON(g.Query(i).Vector)}, K: 10, Explain: explain})
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				code, body, _ := post(b, s, "/v1/search", string(bodies[i%len(bodies)]))
				if code != http.StatusOK {
					b.Fatalf("status %d: %s", code, body)
				}
				i++
			}
		})
	}
}

// TestSeismicMode: on an index with a Seismic structure, mode seismic and
// its knobs reach the searcher.
func TestSeismicMode(t *testing.T) {
	ix, g := synthIndex(t, 400, "")
	if _, err := ix.WriteSeismic(index.SeismicOptions{Lambda: 50, BlockSize: 8, SummaryMass: 0.3}); err != nil {
		t.Fatal(err)
	}
	s := newServer(t, Config{Index: ix})
	ref := search.New(ix)
	for _, knobs := range []struct{ hf, cut float64 }{{0, 0}, {0.5, 1}, {3, 0.5}} {
		for qi := range 5 {
			q := g.Query(qi)
			code, body, _ := post(t, s, "/v1/search", SearchRequest{Query: Query{Vector: vectorJSON(q.Vector)}, K: 10, Mode: "seismic", HeapFactor: knobs.hf, QueryCut: knobs.cut})
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
			resp := mustUnmarshal[SearchResponse](t, body)
			want, err := ref.Search(q.Vector, search.Options{K: 10, Mode: search.Seismic, HeapFactor: knobs.hf, QueryCut: knobs.cut})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Hits) != len(want) || len(want) == 0 || resp.Mode != "seismic" {
				t.Fatalf("%+v query %d: %d hits (mode %q), want %d", knobs, qi, len(resp.Hits), resp.Mode, len(want))
			}
			for i, h := range resp.Hits {
				if h.ID != want[i].ID || h.Score != want[i].Score {
					t.Errorf("%+v query %d hit %d: %+v, want %+v", knobs, qi, i, h, want[i])
				}
			}
		}
	}
}
