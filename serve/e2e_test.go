package serve

import (
	"context"
	"fmt"
	"html"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromium returns a headless-capable Chromium, or skips the test.
// SPLADE_CHROMIUM overrides the search.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SPLADE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("end-to-end web test skipped: no Chromium found (install Debian's chromium package, or set SPLADE_CHROMIUM)")
	return ""
}

func headless(t *testing.T, bin string, extra ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=10000"}, extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, stderr.String())
	}
	return out
}

// TestWebPageEndToEnd loads the page with a query in the URL in headless
// Chromium and checks that the DOM, after the page's script ran, shows the
// ranked results of the API in order, each result's matched terms with
// their contributions, its heaviest document terms, and the query's
// expansion terms.
func TestWebPageEndToEnd(t *testing.T) {
	bin := chromium(t)
	fx := textIndex(t)
	s := newServer(t, Config{Index: fx.ix, Encoder: fx.enc, Docs: fx.docs, DocTerms: 10})
	ts := httptest.NewServer(s)
	defer ts.Close()
	query := "the moon and the ocean tides"

	code, body, _ := post(t, s, "/v1/search", SearchRequest{Query: Query{Text: query}, K: 5, Explain: true})
	if code != 200 {
		t.Fatalf("API: %d %s", code, body)
	}
	want := mustUnmarshal[SearchResponse](t, body)
	if len(want.Hits) != 5 {
		t.Fatalf("API returned %d hits", len(want.Hits))
	}

	page := ts.URL + "/?" + url.Values{"q": {query}, "k": {"5"}}.Encode()
	dom := html.UnescapeString(string(headless(t, bin, "--dump-dom", page)))
	if !strings.Contains(dom, `id="results"`) {
		t.Fatalf("page not rendered:\n%s", dom)
	}
	// Results in rank order.
	pos := 0
	for _, h := range want.Hits {
		marker := fmt.Sprintf(`<li class="hit" data-id="%s">`, h.ID)
		i := strings.Index(dom[pos:], marker)
		if i < 0 {
			t.Fatalf("hit %d (%s) missing or out of order in the DOM:\n%s", h.Rank, h.ID, dom)
		}
		pos += i
		end := strings.Index(dom[pos+1:], `<li class="hit"`)
		block := dom[pos:]
		if end >= 0 {
			block = dom[pos : pos+1+end]
		}
		for _, s := range []string{fmt.Sprintf("#%d", h.Rank), fmt.Sprintf("score %.3f", h.Score), h.Text, "Matched terms", "Document terms"} {
			if !strings.Contains(block, s) {
				t.Errorf("hit %s: %q not shown", h.ID, s)
			}
		}
		for _, m := range h.Explanation.Matched[:min(3, len(h.Explanation.Matched))] {
			if !strings.Contains(block, ">"+m.Term+"</td>") || !strings.Contains(block, fmt.Sprintf("%.3f", m.Contribution)) {
				t.Errorf("hit %s: matched term %q with contribution %.3f not shown", h.ID, m.Term, m.Contribution)
			}
		}
		if n := len(h.Explanation.Matched); n > 20 && !strings.Contains(block, fmt.Sprintf("and %d more matched terms", n-20)) {
			t.Errorf("hit %s: %d matched terms, the page does not say how many are not listed", h.ID, n)
		}
		for _, dt := range h.Explanation.DocTerms[:3] {
			cls := "chip"
			if dt.Expansion {
				cls = "chip expansion"
			}
			if !strings.Contains(block, fmt.Sprintf(`<span class="%s" title="`, cls)) || !strings.Contains(block, ">"+dt.Term+"<span") {
				t.Errorf("hit %s: document term %q (%s) not shown", h.ID, dt.Term, cls)
			}
		}
	}
	if strings.Count(dom, `<li class="hit"`) != 5 {
		t.Errorf("%d results shown, want 5", strings.Count(dom, `<li class="hit"`))
	}
	// Query terms: written and expansion ones, distinguished.
	for _, qt := range want.Query.Terms[:5] {
		cls := "chip"
		if qt.Expansion {
			cls = "chip expansion"
		}
		if !strings.Contains(dom, fmt.Sprintf(`<span class="%s" title="`, cls)) || !strings.Contains(dom, ">"+qt.Term+`<span class="w">`+fmt.Sprintf("%.2f", qt.Weight)) {
			t.Errorf("query term %q (%s, %.2f) not shown", qt.Term, cls, qt.Weight)
		}
	}
	if !strings.Contains(dom, "5 results in") {
		t.Errorf("status line missing")
	}
	// A screenshot for people checking the layout by eye.
	if dir := os.Getenv("SPLADE_SCREENSHOT_DIR"); dir != "" {
		shot := filepath.Join(dir, "serve-page.png")
		headless(t, bin, "--window-size=1100,1400", "--screenshot="+shot, page)
		t.Logf("screenshot: %s", shot)
	}
}
