package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func init() {
	register(command{name: "bench-serve", summary: "load-test a running splade serve: concurrent clients, latency, errors, memory", run: runBenchServe})
}

const benchServeHelp = `Drives a running splade serve with --clients concurrent clients for
--duration, each sending the next query vector of --queries as soon as its
previous answer arrived (a closed loop), cycling through --modes. Reports
throughput, latency percentiles (overall and per mode), errors by kind, the
generations that answered, the work time the server reports (took_ms), and
the server's resident memory and Go heap sampled from its /metrics every
--sample (first, minimum, maximum, last, and the trend in MiB per minute
from a least-squares fit), so that a leak shows. Resident memory includes
the mapped index pages: it grows as queries touch the index and doubles
while a reload verifies a new generation beside the old one.

Every answer is checked: the status must be 200, and (unless
--check-answers=false, for reloads that change the content) the answer to a
given query and mode must be the same, byte for byte (less the generation
and timing fields), every time it is asked, whichever generation answered.
With
--reload-every it posts /admin/reload (the server needs --admin-reload)
periodically; when the index directory's CURRENT names another generation
with the same content, reloads then happen under load and the consistency
check shows whether any read saw a torn or closed index.

Examples:
  splade bench-serve --url http://127.0.0.1:8080 --queries q.jsonl --clients 64 --duration 60s
  splade bench-serve --url http://127.0.0.1:8080 --queries q.jsonl --modes exact,approximate --reload-every 5s --json out.json

Exits with an error when any request failed or any answer was inconsistent.`

// benchServeReport is what bench-serve measures (--json writes it).
type benchServeReport struct {
	URL           string               `json:"url"`
	Clients       int                  `json:"clients"`
	DurationS     float64              `json:"duration_s"`
	Requests      int64                `json:"requests"`
	Errors        map[string]int64     `json:"errors"`
	Inconsistent  int64                `json:"inconsistent_answers"`
	ThroughputQPS float64              `json:"throughput_qps"`
	Latency       latencySummary       `json:"latency_ms"`
	PerMode       map[string]latencyMS `json:"per_mode_latency_ms"`
	// ServerTime is the took_ms the server reports: the work itself,
	// without the wait for a slot and the network.
	ServerTime     latencySummary   `json:"server_time_ms"`
	Generations    map[string]int64 `json:"answers_per_generation"`
	Reloads        int              `json:"reloads_posted"`
	ReloadsApplied int              `json:"reloads_applied"`
	// ServerReloads counts the reloads the server made during the run
	// (from its metrics; SIGHUP ones included), by result.
	ServerReloads map[string]float64 `json:"server_reloads"`
	RSS           memSummary         `json:"server_rss"`
	Heap          memSummary         `json:"server_go_heap_inuse"`
}

type latencyMS struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P99   float64 `json:"p99"`
}

type latencySummary struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

type memSample struct {
	T   float64 `json:"t_s"`
	MiB float64 `json:"mib"`
}

// memSummary summarizes one memory measure sampled over the run.
type memSummary struct {
	FirstMiB       float64     `json:"first_mib"`
	MinMiB         float64     `json:"min_mib"`
	MaxMiB         float64     `json:"max_mib"`
	LastMiB        float64     `json:"last_mib"`
	TrendMiBPerMin float64     `json:"trend_mib_per_min"`
	Samples        []memSample `json:"samples"`
}

func runBenchServe(args []string) error {
	fs := newFlags("bench-serve", "--url URL --queries FILE [flags]", benchServeHelp)
	url := fs.String("url", "http://127.0.0.1:8080", "base URL of the server")
	queriesPath := fs.String("queries", "", "query vectors (JSONL, .gz ok)")
	clients := fs.Int("clients", 64, "concurrent clients")
	duration := fs.Duration("duration", 60*time.Second, "how long to load the server")
	warmup := fs.Duration("warmup", 2*time.Second, "load before measuring (not counted)")
	modesS := fs.String("modes", "exact,approximate", "comma-separated search modes to cycle through")
	k := fs.Int("k", 10, "results per query")
	reloadEvery := fs.Duration("reload-every", 0, "post /admin/reload this often (0: never)")
	sample := fs.Duration("sample", time.Second, "how often to sample the server's memory from /metrics")
	jsonOut := fs.String("json", "", "also write the report as JSON to this file")
	check := fs.Bool("check-answers", true, "require the same answer to a query and mode every time")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *queriesPath == "" {
		return usagef("--queries is required (see splade bench-serve -h)")
	}
	if *clients < 1 || *duration <= 0 || *k < 1 || *warmup < 0 || *sample <= 0 || *reloadEvery < 0 {
		return usagef("--clients, --duration, --k and --sample must be positive, --warmup and --reload-every not negative")
	}
	modes := strings.Split(*modesS, ",")
	for i := range modes {
		modes[i] = strings.TrimSpace(modes[i])
	}
	bodies, err := loadBenchQueries(*queriesPath, modes, *k)
	if err != nil {
		return err
	}
	b := &serveBench{url: strings.TrimSuffix(*url, "/"), bodies: bodies, modes: modes, check: *check,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *clients}, Timeout: time.Minute}}
	if _, err := b.get("/healthz"); err != nil {
		return fmt.Errorf("server not reachable: %w", err)
	}
	rep, err := b.run(*clients, *warmup, *duration, *reloadEvery, *sample)
	if err != nil {
		return err
	}
	printBenchServe(os.Stdout, rep)
	if *jsonOut != "" {
		j, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonOut, append(j, '\n'), 0o644); err != nil {
			return err
		}
	}
	var nerr int64
	for _, n := range rep.Errors {
		nerr += n
	}
	if nerr > 0 || rep.Inconsistent > 0 {
		return fmt.Errorf("%d failed requests, %d inconsistent answers", nerr, rep.Inconsistent)
	}
	return nil
}

// loadBenchQueries returns the request bodies: for each query vector, one
// per mode (bodies[q*len(modes)+m]).
func loadBenchQueries(path string, modes []string, k int) ([][]byte, error) {
	qs, err := readQueries(path)
	if err != nil {
		return nil, err
	}
	var bodies [][]byte
	for _, rec := range qs {
		vec := make(map[string]float32, len(rec.Vector.Terms))
		for i, t := range rec.Vector.Terms {
			vec[t] = rec.Vector.Weights[i]
		}
		for _, m := range modes {
			body, err := json.Marshal(map[string]any{"vector": vec, "k": k, "mode": m})
			if err != nil {
				return nil, err
			}
			bodies = append(bodies, body)
		}
	}
	if len(bodies) == 0 {
		return nil, fmt.Errorf("%s: no queries", path)
	}
	return bodies, nil
}

type serveBench struct {
	url    string
	bodies [][]byte
	modes  []string
	check  bool
	client *http.Client

	measuring atomic.Bool
	mu        sync.Mutex
	errors    map[string]int64
	gens      map[string]int64
	answers   map[int]uint64 // body index -> hash of its first answer
	inconsist int64
	lat       [][]float64 // per mode, ms
	took      []float64   // server-reported work time, ms
}

func (b *serveBench) get(path string) ([]byte, error) {
	resp, err := b.client.Get(b.url + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: status %d: %s", path, resp.StatusCode, bytes.TrimSpace(body))
	}
	return body, err
}

// answerKey strips the fields of an answer that may differ between two
// correct answers to the same query (the generation that answered and the
// time it took) and hashes the rest; it also returns the generation.
func answerKey(body []byte) (uint64, string) {
	var gen string
	const gp = `{"generation":"`
	if bytes.HasPrefix(body, []byte(gp)) {
		if end := bytes.IndexByte(body[len(gp):], '"'); end >= 0 {
			gen = string(body[len(gp) : len(gp)+end])
			body = body[len(gp)+end+1:]
		}
	}
	if i := bytes.LastIndex(body, []byte(`,"took_ms":`)); i >= 0 {
		body = body[:i]
	}
	h := fnv.New64a()
	h.Write(body)
	return h.Sum64(), gen
}

func (b *serveBench) record(i int, d time.Duration, failure string, body []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if failure != "" {
		b.errors[failure]++
		return
	}
	key, gen := answerKey(body)
	if first, ok := b.answers[i]; !ok {
		b.answers[i] = key
	} else if first != key && b.check {
		b.inconsist++
	}
	if !b.measuring.Load() {
		return
	}
	if i := bytes.LastIndex(body, []byte(`"took_ms":`)); i >= 0 {
		v := bytes.TrimRight(bytes.TrimSpace(body[i+len(`"took_ms":`):]), "}")
		if ms, err := strconv.ParseFloat(string(v), 64); err == nil {
			b.took = append(b.took, ms)
		}
	}
	b.gens[gen]++
	m := i % len(b.modes)
	b.lat[m] = append(b.lat[m], float64(d.Microseconds())/1000)
}

func (b *serveBench) client1(c int, stop *atomic.Bool) {
	for i := c * 7919; !stop.Load(); i++ {
		idx := i % len(b.bodies)
		start := time.Now()
		resp, err := b.client.Post(b.url+"/v1/search", "application/json", bytes.NewReader(b.bodies[idx]))
		if err != nil {
			b.record(idx, 0, "transport: "+err.Error(), nil)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		switch {
		case err != nil:
			b.record(idx, d, "reading the answer: "+err.Error(), nil)
		case resp.StatusCode != http.StatusOK:
			b.record(idx, d, "status "+strconv.Itoa(resp.StatusCode), nil)
		default:
			b.record(idx, d, "", body)
		}
	}
}

// serverMetrics reads the server's resident memory, Go heap in use and
// reload counts from its /metrics.
func (b *serveBench) serverMetrics() (rss, heap float64, reloads map[string]float64, err error) {
	body, err := b.get("/metrics")
	if err != nil {
		return 0, 0, nil, err
	}
	reloads = map[string]float64{}
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		switch {
		case name == "process_resident_memory_bytes":
			rss = v
			found++
		case name == "go_memstats_heap_inuse_bytes":
			heap = v
			found++
		case strings.HasPrefix(name, `splade_index_reloads_total{result="`):
			reloads[strings.TrimSuffix(strings.TrimPrefix(name, `splade_index_reloads_total{result="`), `"}`)] = v
		}
	}
	if found != 2 {
		return 0, 0, nil, errors.New("no process_resident_memory_bytes or go_memstats_heap_inuse_bytes in /metrics")
	}
	return rss, heap, reloads, nil
}

func (b *serveBench) run(clients int, warmup, duration, reloadEvery, sample time.Duration) (benchServeReport, error) {
	b.errors, b.gens, b.answers = map[string]int64{}, map[string]int64{}, map[int]uint64{}
	b.lat = make([][]float64, len(b.modes))
	var stop atomic.Bool
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.client1(c, &stop)
		}()
	}
	time.Sleep(warmup)
	// Errors during the warm-up count too: the run must be clean.
	b.measuring.Store(true)
	start := time.Now()
	rep := benchServeReport{URL: b.url, Clients: clients}
	tick := time.NewTicker(sample)
	defer tick.Stop()
	var reloadC <-chan time.Time
	if reloadEvery > 0 {
		rt := time.NewTicker(reloadEvery)
		defer rt.Stop()
		reloadC = rt.C
	}
	var samplingErr error
	var reloads0, reloads1 map[string]float64
	takeSample := func() {
		rss, heap, reloads, err := b.serverMetrics()
		if err != nil {
			if samplingErr == nil {
				samplingErr = err
			}
			return
		}
		t := time.Since(start).Seconds()
		rep.RSS.Samples = append(rep.RSS.Samples, memSample{T: t, MiB: rss / (1 << 20)})
		rep.Heap.Samples = append(rep.Heap.Samples, memSample{T: t, MiB: heap / (1 << 20)})
		if reloads0 == nil {
			reloads0 = reloads
		}
		reloads1 = reloads
	}
	takeSample()
	end := time.After(duration)
loop:
	for {
		select {
		case <-tick.C:
			takeSample()
		case <-reloadC:
			rep.Reloads++
			body, err := b.post("/admin/reload")
			var res struct {
				Reloaded bool `json:"reloaded"`
			}
			if err != nil || json.Unmarshal(body, &res) != nil {
				b.record(0, 0, fmt.Sprintf("reload: %v %s", err, body), nil)
			} else if res.Reloaded {
				rep.ReloadsApplied++
			}
		case <-end:
			break loop
		}
	}
	b.measuring.Store(false)
	elapsed := time.Since(start)
	takeSample()
	stop.Store(true)
	wg.Wait()
	if samplingErr != nil {
		return rep, fmt.Errorf("sampling the server's memory: %w", samplingErr)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	rep.DurationS = elapsed.Seconds()
	rep.Errors, rep.Generations, rep.Inconsistent = b.errors, b.gens, b.inconsist
	var all []float64
	rep.PerMode = map[string]latencyMS{}
	for m, l := range b.lat {
		slices.Sort(l)
		rep.PerMode[b.modes[m]] = latencyMS{Count: len(l), P50: quantile(l, 0.5), P99: quantile(l, 0.99)}
		all = append(all, l...)
	}
	slices.Sort(all)
	rep.Requests = int64(len(all))
	rep.ThroughputQPS = float64(len(all)) / elapsed.Seconds()
	rep.Latency = summarizeLatency(all)
	slices.Sort(b.took)
	rep.ServerTime = summarizeLatency(b.took)
	rep.ServerReloads = map[string]float64{}
	for k, v := range reloads1 {
		rep.ServerReloads[k] = v - reloads0[k]
	}
	rep.RSS.summarize()
	rep.Heap.summarize()
	return rep, nil
}

func (b *serveBench) post(path string) ([]byte, error) {
	resp, err := b.client.Post(b.url+path, "application/json", nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("POST %s: status %d", path, resp.StatusCode)
	}
	return body, err
}

// summarizeLatency summarizes sorted latencies.
func summarizeLatency(sorted []float64) latencySummary {
	if len(sorted) == 0 {
		return latencySummary{}
	}
	var sum float64
	for _, v := range sorted {
		sum += v
	}
	return latencySummary{Mean: sum / float64(len(sorted)), P50: quantile(sorted, 0.5), P90: quantile(sorted, 0.9),
		P99: quantile(sorted, 0.99), P999: quantile(sorted, 0.999), Max: sorted[len(sorted)-1]}
}

// quantile of sorted values (nearest rank).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// summarize fills the summary of the samples, the trend by least squares.
func (r *memSummary) summarize() {
	s := r.Samples
	if len(s) == 0 {
		return
	}
	r.FirstMiB, r.LastMiB, r.MinMiB, r.MaxMiB = s[0].MiB, s[len(s)-1].MiB, s[0].MiB, s[0].MiB
	var st, sm, stt, stm float64
	for _, x := range s {
		r.MinMiB, r.MaxMiB = min(r.MinMiB, x.MiB), max(r.MaxMiB, x.MiB)
		st, sm, stt, stm = st+x.T, sm+x.MiB, stt+x.T*x.T, stm+x.T*x.MiB
	}
	n := float64(len(s))
	if den := n*stt - st*st; den > 0 {
		r.TrendMiBPerMin = 60 * (n*stm - st*sm) / den
	}
}

func printBenchServe(w io.Writer, r benchServeReport) {
	fmt.Fprintf(w, "%d clients for %.1fs against %s\n", r.Clients, r.DurationS, r.URL)
	fmt.Fprintf(w, "requests\t%d\nthroughput\t%.1f/s\n", r.Requests, r.ThroughputQPS)
	for _, l := range []struct {
		name string
		s    latencySummary
	}{{"latency ms", r.Latency}, {"server time ms", r.ServerTime}} {
		fmt.Fprintf(w, "%s\tmean %.2f  p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
			l.name, l.s.Mean, l.s.P50, l.s.P90, l.s.P99, l.s.P999, l.s.Max)
	}
	modes := make([]string, 0, len(r.PerMode))
	for m := range r.PerMode {
		modes = append(modes, m)
	}
	slices.Sort(modes)
	for _, m := range modes {
		l := r.PerMode[m]
		fmt.Fprintf(w, "  %-12s\t%d requests  p50 %.2f  p99 %.2f\n", m, l.Count, l.P50, l.P99)
	}
	var nerr int64
	for _, n := range r.Errors {
		nerr += n
	}
	fmt.Fprintf(w, "errors\t%d %v\ninconsistent answers\t%d\n", nerr, r.Errors, r.Inconsistent)
	fmt.Fprintf(w, "answers per generation\t%v\nreloads\t%d posted, %d applied; by the server during the run %v\n",
		r.Generations, r.Reloads, r.ReloadsApplied, r.ServerReloads)
	for _, m := range []struct {
		name string
		s    memSummary
	}{{"server RSS MiB", r.RSS}, {"server Go heap MiB", r.Heap}} {
		fmt.Fprintf(w, "%s\tfirst %.1f  min %.1f  max %.1f  last %.1f  trend %+.2f MiB/min (%d samples)\n",
			m.name, m.s.FirstMiB, m.s.MinMiB, m.s.MaxMiB, m.s.LastMiB, m.s.TrendMiBPerMin, len(m.s.Samples))
	}
}
