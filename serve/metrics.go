package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/splade-go/splade/index"
)

// metrics live in a registry of their own so that several servers (tests)
// can coexist in one process.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inFlight prometheus.Gauge
	rejected *prometheus.CounterVec
	docs     prometheus.Gauge
	reloads  *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "splade_http_requests_total", Help: "HTTP requests by endpoint and status code.",
		}, []string{"endpoint", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "splade_http_request_duration_seconds",
			Help:    "HTTP request latency by endpoint.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"endpoint"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "splade_http_in_flight_requests", Help: "HTTP requests being served.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "splade_rejected_requests_total", Help: "Requests refused by a limit, by reason (busy, timeout, body_too_large, invalid).",
		}, []string{"reason"}),
		docs: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "splade_index_documents", Help: "Documents in the served index.",
		}),
	}
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "splade_index_reloads_total", Help: "Index reloads by result (ok, unchanged, error).",
	}, []string{"result"})
	m.reg.MustRegister(m.requests, m.latency, m.inFlight, m.rejected, m.docs, m.reloads,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// setIndex describes the served index.
func (m *metrics) setIndex(ix *index.Index) {
	m.docs.Set(float64(ix.NumDocs()))
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// statusWriter records the status code and body size of a response.
type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// handle registers h under pattern with metrics and a structured access log.
func (s *Server) handle(pattern, endpoint string, h http.Handler) {
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.metrics.inFlight.Inc()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			s.metrics.inFlight.Dec()
			if sw.code == 0 {
				sw.code = http.StatusOK
			}
			d := time.Since(start)
			s.metrics.requests.WithLabelValues(endpoint, strconv.Itoa(sw.code)).Inc()
			s.metrics.latency.WithLabelValues(endpoint).Observe(d.Seconds())
			level := slog.LevelInfo
			if sw.code >= 500 {
				level = slog.LevelWarn
			}
			s.log.LogAttrs(r.Context(), level, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.String("endpoint", endpoint), slog.Int("status", sw.code), slog.Int("bytes", sw.bytes),
				slog.Float64("ms", float64(d.Microseconds())/1000), slog.String("remote", r.RemoteAddr))
		}()
		h.ServeHTTP(sw, r)
	}))
}

// apiError is the JSON body of every error response.
type apiError struct {
	Error  string `json:"error"`
	Status int    `json:"status"`
}

func writeError(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, apiError{Error: fmt.Sprintf(format, args...), Status: code})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// requestError is a client error with its status code.
type requestError struct {
	code int
	msg  string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// takeSlot takes a slot of the concurrency semaphore, waiting for one in
// the bounded queue (Limits.MaxQueued, QueueWait); false means busy.
func (s *Server) takeSlot(ctx context.Context) bool {
	select {
	case s.sem <- struct{}{}:
		return true
	default:
	}
	if s.queued.Add(1) > int64(s.lim.MaxQueued) {
		s.queued.Add(-1)
		return false
	}
	defer s.queued.Add(-1)
	t := time.NewTimer(s.lim.QueueWait)
	defer t.Stop()
	select {
	case s.sem <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done(): // client gone
		return false
	}
}

// limited wraps a JSON API handler. It reads the whole body first, bounded
// (413), so that slow clients hold no slot and the work never touches the
// request after the handler returns; then it takes a slot of the
// concurrency semaphore, waiting in a bounded queue when none is free (503
// with Retry-After when the queue is full or the wait too long), and runs
// the work under the request timeout (504). Timed-out work runs to
// completion holding its slot, so the semaphore bounds real CPU use.
func (s *Server) limited(work func(ctx context.Context, sn *snapshot, body []byte) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
			s.metrics.rejected.WithLabelValues("invalid").Inc()
			writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json, got %q (curl: -H 'Content-Type: application/json')", ct)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.lim.MaxBodyBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				s.metrics.rejected.WithLabelValues("body_too_large").Inc()
				writeError(w, http.StatusRequestEntityTooLarge, "request body larger than %d bytes (--max-body)", mbe.Limit)
				return
			}
			writeError(w, http.StatusBadRequest, "reading the request body: %v", err)
			return
		}
		if !s.takeSlot(r.Context()) {
			s.metrics.rejected.WithLabelValues("busy").Inc()
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, "server busy: %d requests running and %d waiting (limits --max-concurrent, --max-queued, --queue-wait); retry later",
				s.lim.MaxConcurrent, s.queued.Load())
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.lim.Timeout)
		defer cancel()
		type result struct {
			v   any
			err error
		}
		done := make(chan result, 1)
		go func() {
			var res result
			func() {
				defer func() {
					if p := recover(); p != nil {
						res.err = fmt.Errorf("internal error: %v", p)
					}
				}()
				// The snapshot is held until the work ends, which may be
				// after a timeout answered the client.
				sn := s.acquire()
				defer sn.release()
				res.v, res.err = work(ctx, sn, body)
			}()
			<-s.sem // before answering, so a client's next request finds the slot free
			done <- res
		}()
		var res result
		select {
		case res = <-done:
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				s.metrics.rejected.WithLabelValues("timeout").Inc()
				writeError(w, http.StatusGatewayTimeout, "request took longer than the %v limit (--timeout)", s.lim.Timeout)
			}
			return // client gone: nothing to write
		}
		if res.err != nil {
			var re *requestError
			if errors.As(res.err, &re) {
				s.metrics.rejected.WithLabelValues("invalid").Inc()
				writeError(w, re.code, "%s", re.msg)
				return
			}
			s.log.Error("request failed", "path", r.URL.Path, "err", res.err)
			writeError(w, http.StatusInternalServerError, "%v", res.err)
			return
		}
		writeJSON(w, http.StatusOK, res.v)
	})
}
