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
	"path/filepath"
	"sync"
	"sync/atomic"
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
	MaxBodyBytes  int64 // request body (default 1 MiB) -> 413
	MaxQueryChars int   // query text in bytes (default 2000) -> 400
	MaxQueryTerms int   // entries of a query vector (default 1024, at most search.MaxQueryTerms) -> 400
	MaxK          int   // results per search (default 1000) -> 400
	MaxFilterIDs  int   // ids of a filter list (default 10000) -> 400
	MaxTexts      int   // texts of one encode request (default 32) -> 400
	MaxExplainK   int   // k of a search that asks for explanations (default 100) -> 400
	MaxConcurrent int   // searches, explains and encodes running at once (default 8)
	// A request finding every slot taken waits for one, at most QueueWait
	// (default Timeout) and with at most MaxQueued others (default 128);
	// beyond either it is answered 503 with Retry-After. Waiting requests
	// hold their bodies, so MaxQueued x MaxBodyBytes bounds that memory.
	MaxQueued int
	QueueWait time.Duration
	Timeout   time.Duration // per request, once running (default 10s) -> 504
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
	def(&l.MaxQueued, 128)
	if l.Timeout <= 0 {
		l.Timeout = 10 * time.Second
	}
	if l.QueueWait <= 0 {
		l.QueueWait = l.Timeout
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
	// OwnsIndex hands Index to the server, which closes it when a reload
	// replaces it and its last request finishes, or at Close. Otherwise
	// the caller closes it, after Serve returns.
	OwnsIndex bool
	// AdminReload enables POST /admin/reload (as Reload). Leave it off
	// where untrusted clients reach the server: it makes every caller
	// able to trigger a full verification of the index.
	AdminReload bool
	// WarmViews builds each generation's bound views in the background as
	// soon as it is served (index.WarmBoundViews), so that the first exact
	// and approximate queries do not build them; a reload or Close stops
	// it after the term it is on. With an index the caller owns, call
	// Close before closing the index: Close waits for the warm-up.
	WarmViews bool
	// LoadSeismic reads each generation's Seismic structure (seismic.bin,
	// when it has one) before serving it: at New, and in Reload before the
	// swap, so that the first Seismic query does not wait for it (0.7 s at
	// 100k documents, ~6 s at 1M, minutes at 8.8M) and a damaged file is
	// found at once (New fails; Reload keeps the old generation). It holds
	// the structure in memory even if no query uses it, hence opt-in.
	LoadSeismic bool
}

// Server is an http.Handler serving one index directory. It serves the
// generation opened first until Reload switches to the one the directory's
// CURRENT names then.
type Server struct {
	root      string // the index directory (parent of the generations)
	cur       atomic.Pointer[snapshot]
	reloadMu  sync.Mutex // one reload at a time
	enc       *model.Encoder
	docs      *DocStore
	lim       Limits
	log       *slog.Logger
	docTerms  int
	sem       chan struct{}
	queued    atomic.Int64 // requests waiting for a slot of sem
	metrics   *metrics
	mux       *http.ServeMux
	warmViews bool
	preload   bool           // Config.LoadSeismic
	warming   sync.WaitGroup // the snapshots' warm-up goroutines
	// adminReload enables POST /admin/reload.
	adminReload bool
	closed      bool // Close was called (guarded by reloadMu)
}

// snapshot is one opened index generation and what requests derive from
// it. A request holds a reference from its start to its end, so it sees
// one index throughout, never a mix of two and never a closed one; Reload
// replaces the server's snapshot atomically, and the replaced one is closed
// (unmapped) when its last request releases it.
type snapshot struct {
	ix       *index.Index
	searcher *search.Searcher
	gen      string // generation directory name
	owned    bool   // opened by Reload, so closed by the server
	log      *slog.Logger
	// refs counts one for being the server's current snapshot plus one per
	// request using it; at zero the snapshot is retired for good.
	refs     atomic.Int64
	stopWarm context.CancelFunc // cancels the warm-up, nil without one

	idsOnce sync.Once
	ids     map[string]uint32 // external -> internal document id, built on first use

	documentsOnce sync.Once
	documents     map[string]uint32 // passage index: document id -> number, built on first use
}

func newSnapshot(ix *index.Index, owned bool, log *slog.Logger) *snapshot {
	sn := &snapshot{ix: ix, searcher: search.New(ix), gen: filepath.Base(ix.Dir()), owned: owned, log: log}
	sn.refs.Store(1)
	return sn
}

// acquire returns the current snapshot with a reference taken; the caller
// must release it.
func (s *Server) acquire() *snapshot {
	for {
		sn := s.cur.Load()
		n := sn.refs.Load()
		if n > 0 && sn.refs.CompareAndSwap(n, n+1) {
			return sn
		}
		// A snapshot whose count reached zero has been replaced and
		// closed: loading the pointer again finds its successor (the swap
		// precedes the last release), unless the server was closed.
		if n == 0 && s.cur.Load() == sn {
			panic("serve: request to a closed server")
		}
	}
}

// warm builds sn's bound views in a goroutine that holds a reference to
// sn, so that an index the server owns stays open until it is done.
func (s *Server) warm(sn *snapshot) {
	if !s.warmViews {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	sn.stopWarm = cancel
	sn.refs.Add(1)
	s.warming.Add(1)
	go func() {
		defer s.warming.Done()
		defer sn.release()
		t0 := time.Now()
		st, err := sn.ix.WarmBoundViews(ctx)
		switch {
		case errors.Is(err, context.Canceled):
			sn.log.Info("bound views: warm-up stopped", "generation", sn.gen, "terms", st.Terms, "mib", float64(st.Bytes)/(1<<20))
		case err != nil:
			sn.log.Warn("bound views: warm-up failed", "generation", sn.gen, "err", err)
		default:
			sn.log.Info("bound views built", "generation", sn.gen, "terms", st.Terms, "refused", st.Refused,
				"mib", float64(st.Bytes)/(1<<20), "seconds", time.Since(t0).Seconds())
		}
	}()
}

// retire drops the server's reference to sn, stopping its warm-up.
func (sn *snapshot) retire() {
	if sn.stopWarm != nil {
		sn.stopWarm()
	}
	sn.release()
}

// release drops a reference; the last one closes an index the server
// opened (the index given in Config stays the caller's to close).
func (sn *snapshot) release() {
	if sn.refs.Add(-1) == 0 && sn.owned {
		if err := sn.ix.Close(); err != nil {
			sn.log.Warn("closing a replaced index", "generation", sn.gen, "err", err)
		}
	}
}

// New checks the configuration and returns a Server. It refuses an encoder
// whose vocabulary fingerprint differs from the index's: its query vectors
// would be scored in another term space.
func New(cfg Config) (*Server, error) {
	if cfg.Index == nil {
		return nil, errors.New("serve: no index")
	}
	s := &Server{
		root:        filepath.Dir(cfg.Index.Dir()),
		enc:         cfg.Encoder,
		docs:        cfg.Docs,
		lim:         cfg.Limits.withDefaults(),
		log:         cfg.Logger,
		docTerms:    cfg.DocTerms,
		metrics:     newMetrics(),
		mux:         http.NewServeMux(),
		adminReload: cfg.AdminReload,
		warmViews:   cfg.WarmViews,
		preload:     cfg.LoadSeismic,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if err := s.checkFingerprint(cfg.Index); err != nil {
		return nil, err
	}
	if err := s.loadSeismic(cfg.Index); err != nil {
		return nil, err
	}
	sn := newSnapshot(cfg.Index, cfg.OwnsIndex, s.log)
	s.warm(sn)
	s.cur.Store(sn)
	if s.docTerms <= 0 {
		s.docTerms = 30
	}
	if cfg.Encoder != nil && cfg.Index.Meta.Fingerprint == "" {
		s.log.Warn("index records no fingerprint: cannot check that the model encodes queries in the index's term space", "index", cfg.Index.Dir())
	}
	s.sem = make(chan struct{}, s.lim.MaxConcurrent)
	s.metrics.setIndex(cfg.Index)
	s.routes()
	return s, nil
}

// checkFingerprint refuses an index whose vectors come from another
// vocabulary than the encoder's.
func (s *Server) checkFingerprint(ix *index.Index) error {
	if s.enc == nil {
		return nil
	}
	want := ix.Meta.Fingerprint
	if got := s.enc.Tokenizer().Fingerprint(); want != "" && want != got {
		return fmt.Errorf("serve: model fingerprint %s differs from index %s fingerprint %s: the index was built from vectors of another model or vocabulary", got, ix.Dir(), want)
	}
	return nil
}

// ReloadResult tells what a reload did.
type ReloadResult struct {
	Generation string `json:"generation"` // the generation served now
	Previous   string `json:"previous"`   // the one served before
	Reloaded   bool   `json:"reloaded"`   // false when CURRENT still names the served generation
	Docs       int    `json:"docs"`
	// TookMS is the time spent opening and verifying the generation.
	TookMS float64 `json:"took_ms"`
}

// Reload serves the generation that the index directory's CURRENT names
// now, when it differs from the one served: it opens and verifies it (every
// checksum), then swaps it in atomically. Requests already running finish
// on the old generation, which is closed after the last of them; requests
// that start after the swap see the new one. A generation that fails to
// open, or whose fingerprint differs from the model's, is an error and the
// old one keeps serving. Reloads are serialized. Texts and vectors held in
// Config.Docs are kept as they are.
func (s *Server) Reload() (ReloadResult, error) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if s.closed {
		return ReloadResult{}, errors.New("serve: reload of a closed server")
	}
	start := time.Now()
	old := s.cur.Load()
	res := ReloadResult{Generation: old.gen, Previous: old.gen, Docs: old.ix.NumDocuments()}
	ix, err := s.openCurrent(old.gen)
	res.TookMS = float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		s.metrics.reloads.WithLabelValues("error").Inc()
		s.log.Error("reload failed; still serving the previous index", "generation", old.gen, "err", err)
		return res, err
	}
	if ix == nil {
		s.metrics.reloads.WithLabelValues("unchanged").Inc()
		return res, nil
	}
	sn := newSnapshot(ix, true, s.log)
	s.warm(sn)
	s.cur.Store(sn)
	old.retire()
	s.metrics.reloads.WithLabelValues("ok").Inc()
	s.metrics.setIndex(ix)
	res.Generation, res.Reloaded, res.Docs = filepath.Base(ix.Dir()), true, ix.NumDocuments()
	s.log.Info("index reloaded", "generation", res.Generation, "previous", old.gen, "docs", res.Docs, "ms", res.TookMS)
	return res, nil
}

// openCurrent opens the generation CURRENT names, or returns nil when that
// is served already. A build that commits meanwhile removes the
// generation just read from CURRENT, so a vanished file means reading
// CURRENT again.
func (s *Server) openCurrent(served string) (*index.Index, error) {
	for attempt := 0; ; attempt++ {
		gen, err := index.CurrentGeneration(s.root)
		if err != nil {
			return nil, err
		}
		if gen == served {
			return nil, nil
		}
		ix, err := index.Open(s.root)
		if errors.Is(err, fs.ErrNotExist) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, err
		}
		err = s.checkFingerprint(ix)
		if err == nil {
			err = s.loadSeismic(ix)
		}
		if err != nil {
			ix.Close()
			return nil, err
		}
		return ix, nil
	}
}

// loadSeismic reads ix's Seismic structure with Config.LoadSeismic, when
// the index has one.
func (s *Server) loadSeismic(ix *index.Index) error {
	if !s.preload || !ix.HasSeismic() {
		return nil
	}
	t0 := time.Now()
	sm, err := ix.Seismic()
	if err != nil {
		return fmt.Errorf("serve: loading the Seismic structure: %w", err)
	}
	st := sm.Stats()
	s.log.Info("seismic structure loaded", "generation", filepath.Base(ix.Dir()), "bytes", st.Bytes, "neighbors", st.Neighbors, "seconds", time.Since(t0).Seconds())
	return nil
}

// Close closes the served index, once the requests using it finish, when
// the server owns it (opened by Reload, or given with Config.OwnsIndex).
// It returns once the views' warm-up has stopped, so that the caller may
// then close an index it owns. The server must not serve requests
// afterwards.
func (s *Server) Close() {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if !s.closed {
		s.closed = true
		s.cur.Load().retire()
	}
	s.warming.Wait()
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
	if s.adminReload {
		s.handle("POST /admin/reload", "reload", http.HandlerFunc(s.reload))
	}
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
	sn := s.cur.Load()
	s.log.Info("serving", "addr", ln.Addr().String(), "generation", sn.gen, "docs", sn.ix.NumDocs(), "text_search", s.enc != nil)
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
func (sn *snapshot) docIndex(id string) (uint32, bool) {
	sn.idsOnce.Do(func() {
		n := sn.ix.NumDocs()
		sn.ids = make(map[string]uint32, n)
		for d := range n {
			sn.ids[sn.ix.DocID(uint32(d))] = uint32(d)
		}
	})
	d, ok := sn.ids[id]
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
