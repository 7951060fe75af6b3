package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Pool runs loops on a fixed number of workers. A nil *Pool runs
// everything on the calling goroutine.
//
// The workers are long-lived goroutines that, after their last chunk,
// keep looking for the next loop for spinTime before they block. One
// forward pass of a short query is some 30 parallel loops of half a
// millisecond with microseconds of serial work between them: a worker
// that blocked (and a goroutine started per loop, as before) let the
// second core go idle between loops, and on a virtual machine an idle
// core is slow to wake, more so after a pause: one query every 0.2 s took
// 27.0 ms, against 22.7 ms with these workers (BENCHMARKS.md, "Encoder").
// ONNX Runtime's and OpenMP's thread pools spin the same way.
//
// Spinning is not enough on a guest kernel that packs runnable threads
// onto as few virtual CPUs as it can (the 2-core machines this project is
// measured on run such a kernel, booted with sched_vcpu_pack): after an
// idle spell the caller and the worker it wakes land on the same CPU and
// take turns: a 16-token query 0.25 s after the last took 24-30 ms on 2
// threads against 24 ms on one, and 13-15 ms when the two run on both
// CPUs (BenchmarkQueryAfterIdle in package model). Pin therefore holds a
// caller that has the pool to itself, and the workers while they serve
// it, on CPUs of their own, when the pool has one thread per CPU the
// process may use (Linux only; off with SPLADE_PIN_THREADS=0). Any thread
// can still take over a busy one's chunks, so a CPU taken by another
// process slows a loop by at most a chunk.
type Pool struct {
	threads int
	st      *poolState // shared with the workers; the Pool itself is not, so that a cleanup stops them
}

// poolState is what the workers see.
type poolState struct {
	start   sync.Once
	workers int
	current atomic.Pointer[job] // the running loop (nil: none); workers join it
	gen     atomic.Uint64       // numbers the loops
	parked  atomic.Int32        // workers blocked on wake
	wake    chan struct{}
	quit    chan struct{}
	cpus    []int        // for Pin: the caller's CPU, then one per worker (nil: no pinning)
	pinned  atomic.Bool  // the caller alone on the pool holds cpus[0]
	callers atomic.Int32 // callers between Pin and unpin
}

// job is one call of For.
type job struct {
	gen      uint64
	fn       func(lo, hi int)
	n, step  int
	chunks   int64
	next     atomic.Int64  // next chunk to claim
	finished atomic.Int64  // chunks done
	done     chan struct{} // closed when every chunk is done
	pinned   bool          // the caller is pinned: workers pin themselves too
}

// spinTime is how long an idle worker looks for the next loop before it
// blocks: longer than the serial gaps inside a forward pass, short
// enough that an idle encoder costs nothing.
const spinTime = 200 * time.Microsecond

// NewPool returns a pool of n workers (n <= 0: runtime.GOMAXPROCS).
func NewPool(n int) *Pool {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	p := &Pool{threads: n}
	if n > 1 {
		st := &poolState{workers: n - 1, wake: make(chan struct{}, n), quit: make(chan struct{}), cpus: planCPUs(n)}
		p.st = st
		// Stop the workers when the pool is no longer used.
		runtime.AddCleanup(p, func(st *poolState) { close(st.quit) }, st)
	}
	return p
}

// Threads returns the number of workers (1 for a nil pool).
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	return p.threads
}

// Pin holds the calling goroutine on the pool's first CPU until the
// returned function is called, and has the workers that join its loops
// hold a CPU each (see Pool). Wrap a sequence of loops in it, such as a
// forward pass: the syscalls cost microseconds. Pin pins only a caller
// that has the pool to itself: with several callers at once (a server
// encoding concurrent requests) every CPU is busy anyway, and a caller
// that cannot move only gets in the others' way. It is a no-op for a pool
// of one thread and where pinning is off.
func (p *Pool) Pin() (unpin func()) {
	if p == nil || p.st == nil || p.st.cpus == nil {
		return func() {}
	}
	st := p.st
	leave := func() { st.callers.Add(-1) }
	if st.callers.Add(1) != 1 {
		return leave
	}
	restore := pinThread(st.cpus[0])
	if restore == nil {
		return leave
	}
	st.pinned.Store(true)
	return func() {
		st.pinned.Store(false)
		restore()
		st.callers.Add(-1)
	}
}

// For splits [0, n) into contiguous chunks of at least grain items and calls
// fn on them in parallel, returning when all are done.
//
// The chunks are handed out dynamically, a few per worker: on a machine
// shared with other processes one worker's core is often taken for a
// while, and with one fixed chunk per worker the whole loop would wait for
// that straggler (a query's products are only a millisecond or two each,
// shorter than a scheduler time slice). The chunk boundaries depend on n,
// grain and the worker count only, so which worker runs a chunk never
// changes a result. The caller runs chunks too, so a loop completes even
// when every worker is busy with another caller's loop.
func (p *Pool) For(n, grain int, fn func(lo, hi int)) {
	t := p.Threads()
	if grain < 1 {
		grain = 1
	}
	if t <= 1 || n <= grain {
		fn(0, n)
		return
	}
	chunks := min(n/grain, chunksPerWorker*t)
	step := (n + chunks - 1) / chunks
	chunks = (n + step - 1) / step
	if chunks <= 1 {
		fn(0, n)
		return
	}
	st := p.st
	st.start.Do(func() {
		for i := range st.workers {
			go st.work(i)
		}
	})
	j := &job{gen: st.gen.Add(1), fn: fn, n: n, step: step, chunks: int64(chunks), done: make(chan struct{}),
		pinned: st.pinned.Load()}
	st.current.Store(j)
	// Drop the loop (and what fn holds) once it is done, unless another
	// caller's loop replaced it.
	defer st.current.CompareAndSwap(j, nil)
	for range min(int(st.parked.Load()), chunks-1) {
		select {
		case st.wake <- struct{}{}:
		default:
		}
	}
	j.run()
	if j.finished.Load() == j.chunks {
		return
	}
	// The last chunks are running on workers: wait for them, briefly
	// spinning first (they are usually microseconds from done).
	for i := 0; i < 1<<12; i++ {
		if j.finished.Load() == j.chunks {
			return
		}
		if i&63 == 63 {
			runtime.Gosched()
		}
	}
	<-j.done
}

// run claims and runs chunks of j until none is left.
func (j *job) run() {
	for {
		c := j.next.Add(1) - 1
		if c >= j.chunks {
			return
		}
		lo := int(c) * j.step
		j.fn(lo, min(lo+j.step, j.n))
		if j.finished.Add(1) == j.chunks {
			close(j.done)
		}
	}
}

// work is worker i: it joins each new loop, then spins for spinTime
// looking for the next one, then blocks until woken. It holds its CPU
// while it serves a pinned caller's loops and lets go at the first loop
// of an unpinned one (a syscall only when that changes).
func (st *poolState) work(i int) {
	var last uint64  // the last loop joined
	var unpin func() // non-nil while pinned
	for {
		if j := st.fresh(last); j != nil {
			last = j.gen
			if j.pinned && unpin == nil {
				unpin = pinThread(st.cpus[i+1])
			} else if !j.pinned && unpin != nil {
				unpin()
				unpin = nil
			}
			j.run()
			continue
		}
		if st.spin(last) {
			continue
		}
		st.parked.Add(1)
		// Look again after announcing ourselves: a loop that started
		// before the count went up did not wake us.
		if st.fresh(last) != nil {
			st.parked.Add(-1)
			continue
		}
		select {
		case <-st.wake:
		case <-st.quit:
			st.parked.Add(-1)
			return
		}
		st.parked.Add(-1)
	}
}

// fresh returns the running loop if it is not loop last.
func (st *poolState) fresh(last uint64) *job {
	if j := st.current.Load(); j != nil && j.gen != last {
		return j
	}
	return nil
}

// spin reports whether a loop other than last appeared within spinTime.
func (st *poolState) spin(last uint64) bool {
	deadline := time.Now().Add(spinTime)
	for i := 0; ; i++ {
		if st.fresh(last) != nil {
			return true
		}
		if i&255 == 255 {
			if time.Now().After(deadline) {
				return false
			}
			select {
			case <-st.quit:
				return false
			default:
			}
		}
	}
}

// chunksPerWorker is how many chunks For cuts per worker: enough for a
// worker on a free core to take over a busy one's share, few enough that
// a chunk of a large product still sweeps whole cache blocks.
const chunksPerWorker = 4
