package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/serve"
)

func init() {
	register(command{name: "serve", summary: "HTTP JSON API and web page to search an index and explain matches", run: runServe})
}

const serveHelp = `Serves an index over HTTP until SIGINT or SIGTERM, then shuts down
gracefully (requests in flight finish, up to --grace). SIGHUP reloads the
index: when a new build has committed another generation (splade index
--output on the same directory), it is opened, verified and swapped in
atomically; requests running finish on the old one, which is then closed.
A failed reload is logged and the old index keeps serving.

  POST /v1/search   {"text": "..."} or {"vector": {term: weight}}, "k", "mode"
                    (exact, approximate, or a query processor: exhaustive,
                    maxscore, blockmax, approx, seismic), "alpha",
                    "query_cut", "heap_factor", "filter_ids", "explain"
  POST /v1/explain  {"text"|"vector", "id"}: matched terms and contributions
  POST /v1/encode   {"texts": [...]}: SPLADE vectors (needs --model)
  POST /admin/reload reloads like SIGHUP (only with --admin-reload)
  GET  /healthz, /metrics (Prometheus), /openapi.yaml (API description)
  GET  /            web page: search box, results, matched and expansion terms

Search by text needs --model (the query encoder; DIR/query is used when
present); its vocabulary fingerprint must equal the index's. Vector search
works without a model. An explanation's matched terms come from the index;
a document's heaviest terms need --vectors (the document vectors the index
was built from) and its text --corpus, both held in memory.

On a passage index (splade encode --chunk), hits are documents scored by
their best passage, named in each hit's "passage" (explanations are about
it); filter_ids and explain take document ids.

Examples:
  splade serve --index idx --model splade-model --addr :8080
  splade serve --index idx --model m --corpus corpus.jsonl --vectors docs.jsonl.gz
  splade serve --index idx --addr 127.0.0.1:9000 --max-concurrent 4 --timeout 2s
  curl -s localhost:8080/v1/search -H 'Content-Type: application/json' \
       -d '{"text":"what causes tides","k":5,"explain":true}'

API requests must be sent as Content-Type: application/json (415 otherwise),
which also keeps cross-site HTML forms from posting to the API.`

func runServe(args []string) error {
	fs := newFlags("serve", "--index DIR [--model DIR] [--addr :8080] [flags]", serveHelp)
	dir := fs.String("index", "", "index directory (splade index)")
	addr := fs.String("addr", ":8080", "listen address")
	corpusPath := fs.String("corpus", "", "document texts to show (BEIR JSONL or id<TAB>text TSV, .gz ok; optional)")
	vectorsPath := fs.String("vectors", "", "document vectors JSONL (.gz ok) to list each result's heaviest terms (optional)")
	threads := fs.Int("threads", 1, "encoder threads per query (concurrent queries add up)")
	ef := addEncoderFlags(fs, "model directory for search by text and /v1/encode (optional; DIR/query if present; \"default\": the embedded one)", false, threads)
	var lim serve.Limits
	fs.Int64Var(&lim.MaxBodyBytes, "max-body", 1<<20, "largest request body in bytes (413 above)")
	fs.IntVar(&lim.MaxQueryChars, "max-query-chars", 2000, "longest query text in bytes (400 above)")
	fs.IntVar(&lim.MaxQueryTerms, "max-query-terms", 1024, "most terms of a query vector (400 above)")
	fs.IntVar(&lim.MaxK, "max-k", 1000, "largest k (400 above)")
	fs.IntVar(&lim.MaxExplainK, "max-explain-k", 100, "largest k of a search with explain (400 above)")
	fs.IntVar(&lim.MaxFilterIDs, "max-filter-ids", 10000, "most ids in filter_ids (400 above)")
	fs.IntVar(&lim.MaxTexts, "max-texts", 32, "most texts per /v1/encode request (400 above)")
	fs.IntVar(&lim.MaxConcurrent, "max-concurrent", 2*runtime.GOMAXPROCS(0), "searches/encodes running at once (503 with Retry-After above)")
	fs.IntVar(&lim.MaxQueued, "max-queued", 128, "requests that may wait for a slot when --max-concurrent are running (503 above)")
	fs.DurationVar(&lim.Timeout, "timeout", 10*time.Second, "per-request time limit once running (504 above)")
	fs.DurationVar(&lim.QueueWait, "queue-wait", 10*time.Second, "longest wait for a slot (503 above)")
	grace := fs.Duration("grace", 15*time.Second, "how long shutdown waits for requests in flight")
	docTerms := fs.Int("doc-terms", 30, "heaviest document terms per explanation (with --vectors)")
	warmViews := fs.Bool("warm-views", true, "build the index's bound views in the background at start and after each reload, so that the first exact/approx queries do not (index.WarmBoundViews)")
	loadSeismic := fs.Bool("load-seismic", false, "read the index's Seismic structure (seismic.bin) at start and at each reload before serving, instead of on the first --mode seismic query (which otherwise waits: ~6 s at 1M documents); a damaged file then stops the start or the reload")
	adminReload := fs.Bool("admin-reload", false, "enable POST /admin/reload (trusted networks only; SIGHUP reloads either way)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("--index is required (see splade serve -h)")
	}
	if lim.MaxBodyBytes <= 0 || lim.MaxQueryChars <= 0 || lim.MaxQueryTerms <= 0 || lim.MaxK <= 0 || lim.MaxExplainK <= 0 ||
		lim.MaxFilterIDs <= 0 || lim.MaxTexts <= 0 || lim.MaxConcurrent <= 0 || lim.MaxQueued <= 0 || lim.Timeout <= 0 || lim.QueueWait <= 0 || *grace < 0 || *threads < 0 || *docTerms <= 0 {
		return usagef("limits, --timeout and --doc-terms must be positive, --grace and --threads not negative")
	}
	cfg := serve.Config{OwnsIndex: true, AdminReload: *adminReload, WarmViews: *warmViews, LoadSeismic: *loadSeismic, Limits: lim, Logger: slog.Default(), DocTerms: *docTerms}
	if *ef.model != "" {
		enc, tok, _, err := ef.load(true)
		if err != nil {
			return err
		}
		cfg.Encoder = enc
		slog.Info("query encoder", "fingerprint", tok.Fingerprint())
	}
	if *corpusPath != "" || *vectorsPath != "" {
		cfg.Docs = &serve.DocStore{}
		if *corpusPath != "" {
			n, err := cfg.Docs.LoadCorpus(*corpusPath, nil)
			if err != nil {
				return err
			}
			slog.Info("corpus loaded", "file", *corpusPath, "docs", n)
		}
		if *vectorsPath != "" {
			n, err := cfg.Docs.LoadVectors(*vectorsPath, nil)
			if err != nil {
				return err
			}
			slog.Info("vectors loaded", "file", *vectorsPath, "docs", n)
		}
	}
	// Opened last, so that every error before leaves nothing to close;
	// from New on the server owns it.
	var err error
	if cfg.Index, err = index.Open(*dir); err != nil {
		return err
	}
	srv, err := serve.New(cfg)
	if err != nil {
		cfg.Index.Close()
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *addr, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-hup:
				srv.Reload() // logs its outcome
			case <-ctx.Done():
				return
			}
		}
	}()
	if err := srv.Serve(ctx, ln, *grace); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
