// Package serve exposes a SPLADE index over HTTP: a JSON API to search by
// text or by sparse vector, to encode text, and to explain a score term by
// term, plus a health endpoint, Prometheus metrics, an OpenAPI description
// and a web page that shows why each result matched.
//
// Explanations are the point of serving SPLADE rather than a dense model:
// a score is the inner product of two sparse vectors over the vocabulary, so
// it decomposes exactly into one contribution per shared term
// (query weight x document weight), and many of those terms are expansion
// terms that the model added because they are related, not because they were
// written. The server recovers a document's weights for the query terms
// from the index itself (one posting-list seek per query term and document),
// so explanations need no extra data; a document's whole vector (its
// heaviest terms, including expansions that no query asked for) and its
// text are shown when the operator loads them (Config.Docs).
//
// The server is built to be exposed: request bodies, query text, vector
// length, k, filter lists and concurrent searches are bounded and refused
// with 4xx (or 503 when busy) and a JSON error naming the limit; every request
// runs under a timeout; Serve shuts down gracefully when its context ends.
package serve

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/model"
	"github.com/splade-go/splade/search"
)

//go:embed web openapi.yaml
var assets embed.FS

// Limits bound what one request may ask for. Zero values select the defaults.
type Limits struct {
	MaxBodyBytes  int64         // request body (default 1 MiB) -> 413
	MaxQueryChars int           // query text in bytes (default 2000) -> 400
	MaxQueryTerms int           // entries of a query vector (default 1024, at most search.MaxQueryTerms) -> 400
	MaxK          int           // results per search (default 1000) -> 400
	MaxFilterIDs  int           // ids of a filter list (default 10000) -> 400
	MaxTexts      int           // texts of one encode request (default 32) -> 400
	MaxExplainK   int           // k of a search that asks for explanations (default 100) -> 400
	MaxConcurrent int           // searches, explains and encodes running at once (default 8); more -> 503
	Timeout       time.Duration // per request (default 10s) -> 504
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = 1 << 20
	}
	def(&l.MaxQueryChars, 2000)
	def(&l.MaxQueryTerms, 1024)
	l.MaxQueryTerms = min(l.MaxQueryTerms, search.MaxQueryTerms)
	def(&l.MaxK, 1000)
	def(&l.MaxFilterIDs, 10000)
	def(&l.MaxTexts, 32)
	def(&l.MaxExplainK, 100)
	def(&l.MaxConcurrent, 8)
	if l.Timeout <= 0 {
		l.Timeout = 10 * time.Second
	}
	return l
}

// Config is what a Server serves.
type Config struct {
	Index *index.Index
	// Encoder, when not nil, enables search by text and /v1/encode. Its
	// tokenizer's fingerprint must equal the index's (when the index
	// records one).
	Encoder *model.Encoder
	// Docs, when not nil, supplies document texts and whole vectors for
	// explanations and the web page.
	Docs   *DocStore
	Limits Limits
	Logger *slog.Logger // default slog.Default()
	// DocTerms is how many of a document's heaviest terms an explanation
	// lists when Docs holds its vector (default 30).
	DocTerms int
}

// Server is an http.Handler serving one index.
type Server struct {
	ix       *index.Index
	searcher *search.Searcher
	enc      *model.Encoder
	docs     *DocStore
	lim      Limits
	log      *slog.Logger
	docTerms int
	sem      chan struct{}
	metrics  *metrics
	mux      *http.ServeMux

	idsOnce sync.Once
	ids     map[string]uint32 // external -> internal document id, built on first use

	documentsOnce sync.Once
	documents     map[string]uint32 // passage index: document id -> number, built on first use
}

// New checks the configuration and returns a Server. It refuses an encoder
// whose vocabulary fingerprint differs from the index's: its query vectors
// would be scored in another term space.
func New(cfg Config) (*Server, error) {
	if cfg.Index == nil {
		return nil, errors.New("serve: no index")
	}
	if cfg.Encoder != nil {
		want := cfg.Index.Meta.Fingerprint
		got := cfg.Encoder.Tokenizer().Fingerprint()
		if want != "" && want != got {
			return nil, fmt.Errorf("serve: model fingerprint %s differs from index %s fingerprint %s: the index was built from vectors of another model or vocabulary", got, cfg.Index.Dir(), want)
		}
	}
	s := &Server{
		ix:       cfg.Index,
		searcher: search.New(cfg.Index),
		enc:      cfg.Encoder,
		docs:     cfg.Docs,
		lim:      cfg.Limits.withDefaults(),
		log:      cfg.Logger,
		docTerms: cfg.DocTerms,
		metrics:  newMetrics(),
		mux:      http.NewServeMux(),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.docTerms <= 0 {
		s.docTerms = 30
	}
	if cfg.Encoder != nil && cfg.Index.Meta.Fingerprint == "" {
		s.log.Warn("index records no fingerprint: cannot check that the model encodes queries in the index's term space", "index", cfg.Index.Dir())
	}
	s.sem = make(chan struct{}, s.lim.MaxConcurrent)
	s.metrics.docs.Set(float64(cfg.Index.NumDocs()))
	s.routes()
	return s, nil
}

// Registry returns the Prometheus registry of the server's metrics, to add
// collectors of the embedding program.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }

func (s *Server) routes() {
	web, err := fs.Sub(assets, "web")
	if err != nil {
		panic(err) // the embedded tree is fixed at compile time
	}
	s.handle("GET /healthz", "healthz", http.HandlerFunc(s.health))
	s.handle("GET /metrics", "metrics", s.metrics.handler())
	s.handle("GET /openapi.yaml", "openapi", http.HandlerFunc(s.openAPI))
	s.handle("POST /v1/search", "search", s.limited(s.search))
	s.handle("POST /v1/encode", "encode", s.limited(s.encode))
	s.handle("POST /v1/explain", "explain", s.limited(s.explain))
	s.handle("GET /v1/", "unknown", http.HandlerFunc(s.notFound))
	s.handle("GET /", "web", http.FileServerFS(web))
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Serve accepts connections on ln until ctx ends, then stops accepting,
// lets requests in flight finish for up to grace, and returns. A nil error
// means a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       s.lim.Timeout + 5*time.Second,
		WriteTimeout:      s.lim.Timeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.log.Info("serving", "addr", ln.Addr().String(), "docs", s.ix.NumDocs(), "text_search", s.enc != nil)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	s.log.Info("stopped")
	return nil
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	b, err := assets.ReadFile("openapi.yaml")
	if err != nil {
		writeError(w, http.StatusInternalServerError, "openapi description missing: %v", err)
		return
	}
	w.Header().Set("Content-Type", "application/yaml")
	w.Write(b)
}

// docIndex returns the internal id of an external document id.
func (s *Server) docIndex(id string) (uint32, bool) {
	s.idsOnce.Do(func() {
		n := s.ix.NumDocs()
		s.ids = make(map[string]uint32, n)
		for d := range n {
			s.ids[s.ix.DocID(uint32(d))] = uint32(d)
		}
	})
	d, ok := s.ids[id]
	return d, ok
}

// notFound answers GET requests under /v1/ (the API is POST only) with a
// JSON error instead of the web page's 404.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v1/search", "/v1/encode", "/v1/explain":
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, "%s takes POST with a JSON body (see /openapi.yaml)", r.URL.Path)
	default:
		writeError(w, http.StatusNotFound, "no endpoint %s (see /openapi.yaml)", r.URL.Path)
	}
}
