package sparse

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// vectorLines returns n JSONL lines of records "d<i>", with a blank line
// after every 7th record, and the line number of each record.
func vectorLines(n int) (string, []int) {
	var sb strings.Builder
	var lines []int
	line := 0
	for i := range n {
		fmt.Fprintf(&sb, `{"id": "d%d", "vector": {"a": %d.5, "t%d": 0.25}}`+"\n", i, i%9+1, i%50)
		line++
		lines = append(lines, line)
		if i%7 == 6 {
			sb.WriteString("  \n")
			line++
		}
	}
	return sb.String(), lines
}

type seen struct {
	id   string
	line int
	w    float32
}

func collect(t *testing.T, r *Reader, workers int, stopAt string) ([]seen, error) {
	t.Helper()
	var got []seen
	err := r.Each(workers, func(rec Record, line int) error {
		got = append(got, seen{rec.ID, line, rec.Vector.Weights[0]})
		if rec.ID == stopAt {
			return errStop
		}
		return nil
	})
	return got, err
}

var errStop = errors.New("stop here")

// TestEachMatchesNext checks that Each passes the records Next returns, in
// file order with their line numbers, for every worker count, on plain and
// gzip files spanning many batches.
func TestEachMatchesNext(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4)) // up to 4 parsers on any machine
	text, lines := vectorLines(3*batchLines + 17)
	dir := t.TempDir()
	plain := filepath.Join(dir, "v.jsonl")
	if err := os.WriteFile(plain, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(text))
	zw.Close()
	zipped := filepath.Join(dir, "v.jsonl.gz")
	if err := os.WriteFile(zipped, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{plain, zipped} {
		for _, workers := range []int{0, 1, 2, 3, 8} {
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := collect(t, r, workers, "")
			r.Close()
			if err != nil {
				t.Fatalf("%s workers %d: %v", path, workers, err)
			}
			if len(got) != len(lines) {
				t.Fatalf("%s workers %d: %d records, want %d", path, workers, len(got), len(lines))
			}
			for i, g := range got {
				if want := fmt.Sprintf("d%d", i); g.id != want || g.line != lines[i] || g.w != float32(i%9+1)+0.5 {
					t.Fatalf("%s workers %d: record %d = %+v, want id %s line %d", path, workers, i, g, want, lines[i])
				}
			}
		}
	}
}

// TestEachErrors checks that Each stops at the first error in file order:
// an invalid line (named by file and line, every record before it passed
// on, none after), fn's own error (returned as is), a read error.
func TestEachErrors(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	text, lines := vectorLines(2*batchLines + 40)
	all := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	const bad = 300 // a record's index; its line is broken, and a later one too
	broken := append([]string(nil), all...)
	broken[lines[bad]-1] = `{"id": "x", "vector": {"a": "heavy"}}`
	broken[lines[bad+200]-1] = `not json`
	brokenText := strings.Join(broken, "\n") + "\n"

	for _, workers := range []int{1, 2, 4} {
		got, err := collect(t, NewReader(strings.NewReader(brokenText), "in.jsonl"), workers, "")
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("in.jsonl:%d:", lines[bad])) {
			t.Fatalf("workers %d: error %v, want one naming in.jsonl:%d", workers, err, lines[bad])
		}
		if len(got) != bad {
			t.Fatalf("workers %d: %d records before the error, want %d", workers, len(got), bad)
		}

		got, err = collect(t, NewReader(strings.NewReader(text), "in.jsonl"), workers, "d123")
		if !errors.Is(err, errStop) || len(got) != 124 {
			t.Fatalf("workers %d: fn's error: got %v after %d records", workers, err, len(got))
		}

		boom := errors.New("disk on fire")
		head := strings.Join(all[:lines[400]], "\n") + "\n"
		r := NewReader(io.MultiReader(strings.NewReader(head), iotest.ErrReader(boom)), "in.jsonl")
		got, err = collect(t, r, workers, "")
		if !errors.Is(err, boom) || len(got) != 401 {
			t.Fatalf("workers %d: read error: got %v after %d records, want %v after 401", workers, err, len(got), boom)
		}
	}
}

// FuzzEach checks Each against Next on arbitrary input: the same records
// with the same line numbers, and the same first error, with batches cut
// every few lines so that records, blank lines and errors fall on their
// boundaries.
func FuzzEach(f *testing.F) {
	text, _ := vectorLines(20)
	f.Add(byte(3), []byte(text))
	f.Add(byte(1), []byte("{\"id\":\"a\",\"vector\":{\"x\":1}}\n\n{\"id\":\"b\",\"vector\":{\"x\":-1}}\n"))
	f.Add(byte(2), []byte("{\"id\":1,\"doc\":\"p\",\"vector\":{\"x\":1,\"y\":2}}\r\n  \nnot json\n{\"id\":\"c\",\"vector\":{}}"))
	f.Fuzz(func(t *testing.T, cut byte, data []byte) {
		type rec struct {
			r    Record
			line int
		}
		var want []rec
		var wantErr error
		nr := NewReader(bytes.NewReader(data), "in")
		for {
			r, err := nr.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					wantErr = err
				}
				break
			}
			want = append(want, rec{r, nr.Line()})
		}
		defer func(l, m int) { batchLines, maxBytesInFlight = l, m }(batchLines, maxBytesInFlight)
		batchLines = int(cut%8) + 1
		maxBytesInFlight = 16 << (cut >> 5) // 16 bytes to 2 KiB: readers wait on the consumer
		for _, workers := range []int{1, 2, 3} {
			var got []rec
			err := NewReader(bytes.NewReader(data), "in").Each(workers, func(r Record, line int) error {
				got = append(got, rec{r, line})
				return nil
			})
			if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
				t.Fatalf("workers %d: error %v, Next gave %v", workers, err, wantErr)
			}
			if len(got) != len(want) {
				t.Fatalf("workers %d: %d records, Next gave %d", workers, len(got), len(want))
			}
			for i := range got {
				g, w := got[i], want[i]
				if g.line != w.line || g.r.ID != w.r.ID || g.r.Doc != w.r.Doc ||
					!slices.Equal(g.r.Vector.Terms, w.r.Vector.Terms) || !slices.Equal(g.r.Vector.Weights, w.r.Vector.Weights) {
					t.Fatalf("workers %d: record %d = %+v, Next gave %+v", workers, i, g, w)
				}
			}
		}
	})
}

// TestByteBudget checks the semaphore bounding the bytes read ahead.
func TestByteBudget(t *testing.T) {
	b := newByteBudget(100)
	if !b.acquire(60) || !b.acquire(40) {
		t.Fatal("acquire within the budget failed")
	}
	got := make(chan bool)
	go func() { got <- b.acquire(30) }()
	select {
	case <-got:
		t.Fatal("acquire past the budget did not wait")
	case <-time.After(20 * time.Millisecond):
	}
	b.release(60)
	if !<-got {
		t.Fatal("acquire after a release failed")
	}
	b.release(70)
	if !b.acquire(500) { // more than the budget, nothing held: passes
		t.Fatal("oversized acquire with nothing held failed")
	}
	go func() { got <- b.acquire(1) }()
	b.close()
	if <-got {
		t.Fatal("acquire after close reported success")
	}
}
