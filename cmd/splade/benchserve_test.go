package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/serve"
	"github.com/splade-go/splade/sparse"
	"github.com/splade-go/splade/synth"
)

// bench-serve against a server whose index was rebuilt (same content) and
// is reloaded during the run: no errors, consistent answers, the reload
// applied, memory sampled.
func TestBenchServe(t *testing.T) {
	tmp := t.TempDir()
	g := synth.New(synth.Options{Docs: 500, Queries: 20, Seed: 3})
	recs := make([]sparse.Record, 500)
	for i := range recs {
		recs[i] = g.Doc(i)
	}
	dir := filepath.Join(tmp, "idx")
	if _, err := index.Build(dir, recs, index.BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	qpath := filepath.Join(tmp, "q.jsonl")
	f, err := os.Create(qpath)
	if err != nil {
		t.Fatal(err)
	}
	w := sparse.NewWriter(f)
	for i := range 20 {
		w.Write(g.Query(i))
	}
	w.Flush()
	f.Close()
	ix, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := serve.New(serve.Config{Index: ix, OwnsIndex: true, AdminReload: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx, ln, time.Second)
	// A rebuild, same content, that the first reload under load applies.
	if _, err := index.Build(dir, recs, index.BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "report.json")
	err = runBenchServe([]string{"--url", "http://" + ln.Addr().String(), "--queries", qpath, "--clients", "8",
		"--duration", "1500ms", "--warmup", "100ms", "--modes", "exact,approximate,maxscore", "--reload-every", "200ms",
		"--sample", "100ms", "--json", out})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep benchServeReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Requests == 0 || len(rep.Errors) != 0 || rep.Inconsistent != 0 || rep.ReloadsApplied != 1 ||
		len(rep.PerMode) != 3 || len(rep.RSS.Samples) < 5 || rep.RSS.MinMiB <= 0 || rep.Latency.P99 < rep.Latency.P50 {
		t.Fatalf("report %s", b)
	}
}
