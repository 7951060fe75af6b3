package sparse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
)

// Each calls fn with every record of r, in file order, and the record's
// line number. Lines are parsed on up to workers goroutines ahead of fn
// (workers <= 1: in the calling goroutine, as Next does). JSON decoding is
// most of the cost of reading a vector file (~90 MB/s on one core), and a
// consumer such as an index builder can do its own work meanwhile.
//
// Each stops at the first error, in file order: a line that cannot be read
// or is not a valid record (the error names the file and line, as Next's
// do; the records before it have all been passed to fn), or an error
// returned by fn, returned as is. Blank lines are skipped. Each returns
// only once its goroutines have stopped; r must not be used afterwards
// except to Close it.
func (r *Reader) Each(workers int, fn func(rec Record, line int) error) error {
	workers = min(workers, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		for {
			rec, err := r.Next()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
			if err := fn(rec, r.Line()); err != nil {
				return err
			}
		}
	}

	jobs := make(chan *lineBatch, workers)
	order := make(chan *lineBatch, 2*workers) // bounds the batches in flight
	quit := make(chan struct{})
	held := newByteBudget(maxBytesInFlight) // and their bytes
	var wg sync.WaitGroup
	wg.Add(1 + workers)
	go func() { // reader
		defer wg.Done()
		defer close(jobs)
		defer close(order)
		for {
			b, more := r.readBatch()
			if !held.acquire(len(b.data)) {
				return
			}
			select {
			case order <- b:
			case <-quit:
				return
			}
			select {
			case jobs <- b:
			case <-quit:
				return
			}
			if !more {
				return
			}
		}
	}()
	for range workers {
		go func() { // parsers
			defer wg.Done()
			for b := range jobs {
				b.parse(r.name)
				close(b.done)
			}
		}()
	}
	defer func() {
		close(quit)
		held.close()
		for range order { // unblock the reader, let the parsers finish
		}
		wg.Wait()
	}()
	for b := range order {
		<-b.done
		for i, rec := range b.recs {
			if err := fn(rec, b.lines[i]); err != nil {
				return err
			}
		}
		if b.err != nil {
			return b.err
		}
		held.release(len(b.data))
	}
	return nil
}

// maxBytesInFlight bounds the line bytes read ahead of fn, whatever the
// number of workers: lines may be up to MaxLineBytes long, and a few
// dozen batches of such lines would otherwise be held at once. A batch
// larger than the budget still passes when nothing else is held. A
// variable for the tests.
var maxBytesInFlight = 16 << 20

// byteBudget is a counting semaphore over bytes.
type byteBudget struct {
	mu     sync.Mutex
	cond   sync.Cond
	used   int
	limit  int
	closed bool
}

func newByteBudget(limit int) *byteBudget {
	b := &byteBudget{limit: limit}
	b.cond.L = &b.mu
	return b
}

// acquire waits until n more bytes fit (or none are held); false once
// closed.
func (b *byteBudget) acquire(n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.used > 0 && b.used+n > b.limit && !b.closed {
		b.cond.Wait()
	}
	b.used += n
	return !b.closed
}

func (b *byteBudget) release(n int) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	b.cond.Broadcast()
}

func (b *byteBudget) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.cond.Broadcast()
}

// Batches of lines handed to the parsers: large enough to amortize the
// hand-over, small enough to bound memory (at most 3 x workers batches,
// and maxBytesInFlight bytes, are held). Variables so that FuzzEach can
// cut batches anywhere.
var (
	batchLines = 256
	batchBytes = 1 << 20
)

// lineBatch is consecutive non-blank lines of the file, then their records.
type lineBatch struct {
	data  []byte // the lines, concatenated
	ends  []int  // line i is data[ends[i-1]:ends[i]]
	lines []int  // line numbers

	readErr error // reading stopped here (after the lines above)

	recs []Record // of the first lines, up to the first invalid one
	err  error    // the first error of the batch, file order
	done chan struct{}
}

// readBatch reads the next batch; more is false at the end of the input or
// after a read error (then in readErr, with the file and line).
func (r *Reader) readBatch() (b *lineBatch, more bool) {
	b = &lineBatch{done: make(chan struct{})}
	for len(b.lines) < batchLines && len(b.data) < batchBytes {
		line, err := r.lines.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return b, false
			}
			b.readErr = fmt.Errorf("%s:%d: %w", r.name, r.lines.Line(), err)
			return b, false
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		b.data = append(b.data, line...)
		b.ends = append(b.ends, len(b.data))
		b.lines = append(b.lines, r.lines.Line())
	}
	return b, true
}

// parse decodes the batch's lines up to the first invalid one.
func (b *lineBatch) parse(name string) {
	start := 0
	for i, end := range b.ends {
		rec, err := ParseRecord(b.data[start:end])
		start = end
		if err != nil {
			b.err = fmt.Errorf("%s:%d: %w", name, b.lines[i], err)
			return
		}
		b.recs = append(b.recs, rec)
	}
	b.err = b.readErr
}
