package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/internal/hostile"
	"github.com/splade-go/splade/internal/racedetect"
	"github.com/splade-go/splade/sparse"
	"github.com/splade-go/splade/synth"
)

// apiRequest is one request of a load: a path and its JSON body.
type apiRequest struct {
	path string
	body []byte
}

// mixedRequests are searches in every mode (some with explanations, some
// filtered) and explanations, over the queries of g.
func mixedRequests(t testing.TB, g *synth.Generator, n int) []apiRequest {
	var out []apiRequest
	add := func(path string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, apiRequest{path, b})
	}
	for i := range n {
		q := Query{Vector: vectorJSON(g.Query(i).Vector)}
		switch i % 4 {
		case 0:
			add("/v1/search", SearchRequest{Query: q, K: 10})
		case 1:
			add("/v1/search", SearchRequest{Query: q, K: 10, Mode: "approximate"})
		case 2:
			add("/v1/search", SearchRequest{Query: q, K: 20, Mode: "maxscore", Explain: true})
		case 3:
			add("/v1/search", SearchRequest{Query: q, K: 5, FilterIDs: []string{synth.DocID(i), synth.DocID(2 * i), synth.DocID(g.RelevantDoc(i))}})
		}
		if i%4 == 0 {
			add("/v1/explain", ExplainRequest{Query: q, ID: synth.DocID(g.RelevantDoc(i))})
		}
	}
	return out
}

// canonical returns the generation that answered and the response without
// it and without its timing, so that answers of equal indexes compare
// equal byte for byte.
func canonical(path string, body []byte) (gen, canon string, err error) {
	var v any
	if path == "/v1/explain" {
		var r ExplainResponse
		err, gen, v = json.Unmarshal(body, &r), r.Generation, &r
		r.Generation = ""
	} else {
		var r SearchResponse
		err, gen, v = json.Unmarshal(body, &r), r.Generation, &r
		r.Generation, r.TookMS = "", 0
	}
	if err != nil {
		return "", "", err
	}
	b, err := json.Marshal(v)
	return gen, string(b), err
}

// answers asks h each request in turn and returns the canonical answers.
func answers(t *testing.T, h http.Handler, reqs []apiRequest) []string {
	t.Helper()
	out := make([]string, len(reqs))
	for i, r := range reqs {
		code, body, _ := post(t, h, r.path, string(r.body))
		if code != http.StatusOK {
			t.Fatalf("%s %s: status %d: %s", r.path, r.body, code, body)
		}
		var err error
		if _, out[i], err = canonical(r.path, body); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func synthRecords(g *synth.Generator, n int) []sparse.Record {
	recs := make([]sparse.Record, n)
	for i := range recs {
		recs[i] = g.Doc(i)
	}
	return recs
}

// buildGeneration indexes recs into dir and returns the generation's name.
func buildGeneration(t testing.TB, dir string, recs []sparse.Record) string {
	st, err := index.Build(dir, recs, index.BuildOptions{})
	if err != nil {
		t.Error(err)
		return ""
	}
	return filepath.Base(st.Dir)
}

// buildInChild indexes the first docs synthetic documents of seed into dir
// in a child process (this test binary running TestBuildChild), as
// `splade index` rebuilding beside a server would: the operating system
// shares the CPU between the two processes, where a goroutine of this
// process would get one share among the many of the load.
func buildInChild(t testing.TB, dir string, seed int64, docs int) string {
	cmd := exec.Command(os.Args[0], "-test.run=^TestBuildChild$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("SPLADE_SERVE_TEST_BUILD=%s,%d,%d", dir, seed, docs))
	out, err := cmd.CombinedOutput()
	gen, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "generation ")
	if err != nil || !ok {
		t.Errorf("building in a child: %v: %s", err, out)
		return ""
	}
	return strings.Fields(gen)[0]
}

// TestBuildChild is buildInChild's child; it does nothing in a normal run.
func TestBuildChild(t *testing.T) {
	spec := os.Getenv("SPLADE_SERVE_TEST_BUILD")
	if spec == "" {
		t.Skip("runs as a child of TestReloadUnderLoad")
	}
	var dir string
	var seed int64
	var docs int
	if _, err := fmt.Sscanf(strings.ReplaceAll(spec, ",", " "), "%s %d %d", &dir, &seed, &docs); err != nil {
		t.Fatal(err)
	}
	g := synth.New(synth.Options{Docs: docs, Queries: 32, Seed: seed})
	st, err := index.Build(dir, synthRecords(g, docs), index.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("generation %s\n", filepath.Base(st.Dir))
}

// TestReloadUnderLoad: 64 clients search over loopback while the index is
// rebuilt with other content and reloaded, again and again. Every request
// must succeed, and every answer must equal, byte for byte, the answer of
// the content of the generation it names: a torn read (part of one index,
// part of another, or a closed one) would differ or crash. Replaced
// generations, deleted by the builder, must be unmapped once their last
// request ends.
func TestReloadUnderLoad(t *testing.T) {
	docs, minSwaps, minRun, clients := 3000, 4, 5*time.Second, 64
	if racedetect.Enabled || testing.Short() {
		docs, minSwaps, minRun = 1000, 3, 3*time.Second
	}
	seeds := map[string]int64{"A": 7, "B": 8}
	gA := synth.New(synth.Options{Docs: docs, Queries: 32, Seed: seeds["A"]})
	gB := synth.New(synth.Options{Docs: docs, Queries: 32, Seed: seeds["B"]})
	contents := map[string][]sparse.Record{"A": synthRecords(gA, docs), "B": synthRecords(gB, docs)}
	root := t.TempDir()
	served := filepath.Join(root, "idx")
	var mu sync.Mutex
	contentOf := map[string]string{buildGeneration(t, served, contents["A"]): "A"}
	ix, err := index.Open(served)
	if err != nil {
		t.Fatal(err)
	}
	// warming the views of each generation served, stopped by the reloads
	s := newServer(t, Config{Index: ix, OwnsIndex: true, WarmViews: true, Limits: Limits{Timeout: 30 * time.Second}})
	buildGeneration(t, filepath.Join(root, "b"), contents["B"])
	ixB, err := index.Open(filepath.Join(root, "b"))
	if err != nil {
		t.Fatal(err)
	}
	defer ixB.Close()

	reqs := mixedRequests(t, gA, 32)
	want := map[string][]string{"A": answers(t, s, reqs), "B": answers(t, newServer(t, Config{Index: ixB}), reqs)}
	differ := 0
	for i := range reqs {
		if want["A"][i] != want["B"][i] {
			differ++
		}
	}
	if differ < len(reqs)*3/4 {
		t.Fatalf("only %d of %d answers differ between the two contents: torn reads would go unseen", differ, len(reqs))
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	serveErr := make(chan error, 1)
	go func() { serveErr <- s.Serve(ctx, ln, 10*time.Second) }()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}

	var (
		stop     atomic.Bool
		wg       sync.WaitGroup
		requests atomic.Int64
		failures []string
		perGen   = map[string]int{}
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 10 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; !stop.Load(); i++ {
				r := reqs[i%len(reqs)]
				resp, err := client.Post(base+r.path, "application/json", bytes.NewReader(r.body))
				if err != nil {
					fail("%s: %v", r.path, err)
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					fail("%s: status %d: %s %v", r.path, resp.StatusCode, body, err)
					return
				}
				gen, got, err := canonical(r.path, body)
				if err != nil {
					fail("%s: %v", r.path, err)
					return
				}
				mu.Lock()
				content, ok := contentOf[gen]
				perGen[gen]++
				mu.Unlock()
				if !ok {
					fail("answer from generation %q, which no build committed", gen)
					return
				}
				if got != want[content][i%len(reqs)] {
					fail("request %d answered by %s (content %s) differs from that content's answer:\n%s\nwant\n%s", i%len(reqs), gen, content, got, want[content][i%len(reqs)])
					return
				}
				requests.Add(1)
			}
		}()
	}

	// Rebuild and reload, alternating the contents, until both bounds are
	// met (or a generous deadline passes).
	start := time.Now()
	swaps := 0
	next := "B"
	for (swaps < minSwaps || time.Since(start) < minRun) && time.Since(start) < 3*time.Minute && len(failures) == 0 {
		gen := buildInChild(t, served, seeds[next], docs)
		if gen == "" {
			break
		}
		mu.Lock()
		contentOf[gen] = next
		mu.Unlock()
		res, err := s.Reload()
		if err != nil || !res.Reloaded || res.Generation != gen {
			t.Errorf("reload to %s: %+v, %v", gen, res, err)
			break
		}
		if res, err := s.Reload(); err != nil || res.Reloaded {
			t.Errorf("second reload of %s: %+v, %v (want unchanged)", gen, res, err)
		}
		swaps++
		next = map[string]string{"A": "B", "B": "A"}[next]
	}
	elapsed := time.Since(start)
	stop.Store(true)
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	if swaps < minSwaps {
		t.Errorf("%d reloads, want at least %d", swaps, minSwaps)
	}
	answered := 0
	for _, n := range perGen {
		if n > 0 {
			answered++
		}
	}
	if answered < 2 {
		t.Errorf("answers came from %d generations (%v), want several", answered, perGen)
	}
	t.Logf("%d docs, %d clients: %d requests in %v (%.0f/s), %d reloads, answers per generation %v",
		docs, clients, requests.Load(), elapsed.Round(time.Millisecond), float64(requests.Load())/elapsed.Seconds(), swaps, perGen)

	// Only the generation served now is still mapped: every replaced one
	// was closed after its last request.
	current := s.cur.Load().gen
	if maps, err := mappedFiles(served); err == nil {
		for _, m := range maps {
			if !strings.Contains(m, string(filepath.Separator)+current+string(filepath.Separator)) {
				t.Errorf("%s is still mapped after the load ended (serving %s)", m, current)
			}
		}
		if len(maps) == 0 {
			t.Errorf("no file of the served generation %s is mapped", current)
		}
	} else {
		t.Logf("cannot check mappings: %v", err)
	}
	cancel()
	if err := <-serveErr; err != nil {
		t.Errorf("Serve: %v", err)
	}
	s.Close()
	if maps, err := mappedFiles(served); err == nil && len(maps) > 0 {
		t.Errorf("mapped after Close: %v", maps)
	}
}

// mappedFiles lists the files under dir that this process maps, from
// /proc/self/maps (Linux).
func mappedFiles(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if i := strings.Index(sc.Text(), dir+string(filepath.Separator)); i >= 0 {
			out = append(out, sc.Text()[i:])
		}
	}
	return out, sc.Err()
}

// A reload to a generation that fails verification is an error, and the
// old one keeps serving, unchanged.
func TestReloadOfCorruptGeneration(t *testing.T) {
	g := synth.New(synth.Options{Docs: 300, Queries: 4, Seed: 7})
	dir := filepath.Join(t.TempDir(), "idx")
	recs := synthRecords(g, 300)
	first := buildGeneration(t, dir, recs)
	ix, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t, Config{Index: ix, OwnsIndex: true, AdminReload: true})
	defer s.Close()
	req := SearchRequest{Query: Query{Vector: vectorJSON(g.Query(0).Vector)}}
	_, before, _ := post(t, s, "/v1/search", req)

	second := buildGeneration(t, dir, recs[:200])
	flipByte(t, filepath.Join(dir, second, "postings.bin"))
	code, body, _ := post(t, s, "/admin/reload", "")
	if code != http.StatusInternalServerError || !strings.Contains(string(body), "checksum") || !strings.Contains(string(body), first) {
		t.Fatalf("reload of a corrupt generation: status %d: %s", code, body)
	}
	if _, after, _ := post(t, s, "/v1/search", req); !bytes.Equal(stripTook(t, before), stripTook(t, after)) {
		t.Errorf("answer changed after a failed reload:\n%s\n%s", before, after)
	}
	_, health, _ := get(t, s, "/healthz")
	if h := mustUnmarshal[HealthResponse](t, health); h.Generation != first || h.Docs != 300 {
		t.Errorf("health after a failed reload: %+v", h)
	}
	_, metrics, _ := get(t, s, "/metrics")
	if !strings.Contains(string(metrics), `splade_index_reloads_total{result="error"} 1`) {
		t.Errorf("metrics do not count the failed reload")
	}

	// A good generation then reloads, by the endpoint.
	third := buildGeneration(t, dir, recs[:100])
	code, body, _ = post(t, s, "/admin/reload", "")
	res := mustUnmarshal[ReloadResult](t, body)
	if code != http.StatusOK || !res.Reloaded || res.Generation != third || res.Previous != first || res.Docs != 100 {
		t.Fatalf("reload: status %d: %s", code, body)
	}
}

func stripTook(t *testing.T, b []byte) []byte {
	_, c, err := canonical("/v1/search", b)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(c)
}

// Without AdminReload the endpoint does not exist.
func TestAdminReloadIsOptIn(t *testing.T) {
	ix, _ := synthIndex(t, 20, "")
	s := newServer(t, Config{Index: ix})
	if code, _, _ := post(t, s, "/admin/reload", ""); code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /admin/reload without AdminReload: status %d", code)
	}
}

// A request that finds every slot taken waits in the queue and runs when a
// slot frees; when the queue is full it is refused at once with 503.
func TestQueue(t *testing.T) {
	ix, g := synthIndex(t, 50, "")
	s := newServer(t, Config{Index: ix, Limits: Limits{MaxConcurrent: 1, MaxQueued: 1, QueueWait: 20 * time.Second}})
	vec := SearchRequest{Query: Query{Vector: vectorJSON(g.Query(0).Vector)}}
	s.sem <- struct{}{} // a request holds the only slot
	waited := make(chan int)
	go func() {
		code, _, _ := post(t, s, "/v1/search", vec)
		waited <- code
	}()
	for s.queued.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if code, body, _ := post(t, s, "/v1/search", vec); code != http.StatusServiceUnavailable || !strings.Contains(string(body), "1 waiting") {
		t.Fatalf("queue full: status %d: %s", code, body)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusal with a full queue took %v", d)
	}
	<-s.sem
	if code := <-waited; code != http.StatusOK {
		t.Fatalf("queued request: status %d", code)
	}
}

// Hostile queries: 100,000 query terms, by vector and by text, and other
// requests far over a limit, are refused with 4xx, having allocated a
// bounded amount (measured).
func TestHugeQueries(t *testing.T) {
	const terms = 100_000
	var vec, text strings.Builder
	vec.WriteString(`{"vector":{`)
	for i := range terms {
		if i > 0 {
			vec.WriteByte(',')
		}
		fmt.Fprintf(&vec, `"t%d":1`, i)
	}
	vec.WriteString(`},"k":10}`)
	for i := range terms {
		fmt.Fprintf(&text, "w%d ", i)
	}
	textBody, _ := json.Marshal(SearchRequest{Query: Query{Text: text.String()}})
	ids := make([]string, terms)
	for i := range ids {
		ids[i] = fmt.Sprintf("doc%d", i)
	}
	filterBody, _ := json.Marshal(SearchRequest{Query: Query{Vector: json.RawMessage(`{"a":1}`)}, FilterIDs: ids})
	texts := make([]string, terms)
	for i := range texts {
		texts[i] = "x"
	}
	encodeBody, _ := json.Marshal(EncodeRequest{Texts: texts})

	fx := textIndex(t)
	def := newServer(t, Config{Index: fx.ix, Encoder: fx.enc})
	big := newServer(t, Config{Index: fx.ix, Encoder: fx.enc, Limits: Limits{MaxBodyBytes: 16 << 20}})
	tests := []struct {
		name   string
		s      *Server
		path   string
		body   string
		status int
		msg    string
	}{
		{"100k-term vector, default body limit", def, "/v1/search", vec.String(), 413, "larger than 1048576 bytes"},
		{"100k-term vector under a 16 MiB body limit", big, "/v1/search", vec.String(), 400, "100000 terms, more than the limit 1024"},
		{"100k-term vector to explain", big, "/v1/explain", strings.Replace(vec.String(), `"k":10`, `"id":"d1"`, 1), 400, "100000 terms"},
		{"100k-word text", def, "/v1/search", string(textBody), 400, "more than the limit 2000"},
		{"100k-word text under a 16 MiB body limit", big, "/v1/search", string(textBody), 400, "more than the limit 2000"},
		{"100k filter ids", big, "/v1/search", string(filterBody), 400, "filter_ids has 100000 ids"},
		{"100k texts to encode", big, "/v1/encode", string(encodeBody), 400, "texts holds 100000 texts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var code int
			var body []byte
			alloc := hostile.Allocated(func() { code, body, _ = post(t, tc.s, tc.path, tc.body) })
			if code != tc.status || !strings.Contains(string(body), tc.msg) {
				t.Fatalf("status %d: %.300s; want %d with %q", code, body, tc.status, tc.msg)
			}
			// The body is read once and parsed once (a vector's terms
			// cost about 25 bytes per byte of JSON), so the cost is
			// bounded by the body limit, not by what the body declares.
			if limit := 32*uint64(len(tc.body)) + 8*hostile.MiB; alloc > limit {
				t.Errorf("refusing a %d KiB request allocated %d KiB, want at most %d KiB", len(tc.body)>>10, alloc>>10, limit>>10)
			}
			t.Logf("%d KiB body: %d KiB allocated", len(tc.body)>>10, alloc>>10)
		})
	}
}

// flipByte flips one bit of the byte in the middle of the file at path.
func flipByte(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x40
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLoadSeismic: with Config.LoadSeismic a damaged seismic.bin stops New
// (without it the server starts and only Seismic queries fail), and a
// reload to a generation whose seismic.bin is damaged fails and keeps the
// old generation; a good one is read before it is served.
func TestLoadSeismic(t *testing.T) {
	g := synth.New(synth.Options{Docs: 300, Queries: 4, Seed: 7})
	dir := filepath.Join(t.TempDir(), "idx")
	recs := synthRecords(g, 300)
	damage := func(gen string) { flipByte(t, filepath.Join(dir, gen, "seismic.bin")) }
	withSeismic := func(n int) string {
		t.Helper()
		gen := buildGeneration(t, dir, recs[:n])
		ix, err := index.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer ix.Close()
		if _, err := ix.WriteSeismic(index.SeismicOptions{Lambda: 50, BlockSize: 8, SummaryMass: 0.4}); err != nil {
			t.Fatal(err)
		}
		return gen
	}
	first := withSeismic(300)
	damage(first)
	ix, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Index: ix, LoadSeismic: true}); err == nil || !strings.Contains(err.Error(), "seismic.bin") {
		t.Fatalf("New with a damaged seismic.bin: %v", err)
	}
	s := newServer(t, Config{Index: ix}) // lazily: starts, Seismic queries fail
	req := SearchRequest{Query: Query{Vector: vectorJSON(g.Query(0).Vector)}, K: 10, Mode: "seismic"}
	if code, body, _ := post(t, s, "/v1/search", req); code == http.StatusOK {
		t.Fatalf("seismic search over a damaged seismic.bin: %s", body)
	}
	s.Close()
	ix.Close()

	second := withSeismic(200)
	ix, err = index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer // the server logs each structure it reads
	s = newServer(t, Config{Index: ix, OwnsIndex: true, LoadSeismic: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	defer s.Close()
	if !strings.Contains(logs.String(), `msg="seismic structure loaded" generation=`+second) {
		t.Fatalf("New did not read %s's structure:\n%s", second, logs.String())
	}
	if code, body, _ := post(t, s, "/v1/search", req); code != http.StatusOK {
		t.Fatalf("seismic search: status %d: %s", code, body)
	}
	third := withSeismic(100)
	damage(third)
	if res, err := s.Reload(); err == nil || !strings.Contains(err.Error(), "seismic.bin") {
		t.Fatalf("reload to the damaged seismic.bin of %s: %+v, %v", third, res, err)
	}
	_, health, _ := get(t, s, "/healthz")
	if h := mustUnmarshal[HealthResponse](t, health); h.Generation != second {
		t.Fatalf("after the failed reload serving %s, want %s", h.Generation, second)
	}
	fourth := withSeismic(150)
	if res, err := s.Reload(); err != nil || res.Generation != fourth {
		t.Fatalf("reload: %+v, %v", res, err)
	}
	if !strings.Contains(logs.String(), `msg="seismic structure loaded" generation=`+fourth) {
		t.Fatalf("Reload did not read %s's structure:\n%s", fourth, logs.String())
	}
}
