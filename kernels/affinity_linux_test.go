package kernels

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func threadMask(t *testing.T) unix.CPUSet {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	return set
}

func onlyCPU(set unix.CPUSet) int {
	if set.Count() != 1 {
		return -1
	}
	for c := 0; ; c++ {
		if set.IsSet(c) {
			return c
		}
	}
}

// TestPoolPin checks that Pin holds the caller on the pool's first CPU and
// the workers that join its loops on the others, and that unpin gives the
// caller's thread its mask back.
func TestPoolPin(t *testing.T) {
	t.Setenv("SPLADE_PIN_THREADS", "")
	runtime.LockOSThread() // so that the masks read below are this thread's
	defer runtime.UnlockOSThread()
	before := threadMask(t)
	n := before.Count()
	if n < 2 {
		t.Skip("one CPU allowed: nothing to pin")
	}
	if p := NewPool(n + 1); p.st.cpus != nil {
		t.Errorf("a pool of %d threads on %d CPUs pins", n+1, n)
	}
	if p := NewPool(n - 1); n > 2 && p.st.cpus != nil {
		t.Errorf("a pool of %d threads on %d CPUs pins", n-1, n)
	}
	p := NewPool(n)
	want := p.st.cpus
	if len(want) != n {
		t.Fatalf("a pool of %d threads on %d CPUs plans CPUs %v", n, n, want)
	}
	planned := map[int]bool{}
	for _, c := range want {
		if planned[c] || !before.IsSet(c) {
			t.Fatalf("CPU plan %v repeats a CPU or uses one not allowed (%v)", want, before)
		}
		planned[c] = true
	}

	unpin := p.Pin()
	if got := onlyCPU(threadMask(t)); got != want[0] {
		t.Fatalf("pinned caller runs on CPU %d (-1: several), want %d", got, want[0])
	}
	// A second caller meanwhile is left alone.
	done := make(chan int)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var set unix.CPUSet
		unix.SchedGetaffinity(0, &set)
		n := set.Count()
		p.Pin()()
		unix.SchedGetaffinity(0, &set)
		done <- set.Count() - n
	}()
	if d := <-done; d != 0 {
		t.Errorf("a concurrent caller's mask changed by %d CPUs", d)
	}
	// Workers join the loops (chunks of a millisecond: they wake in time)
	// and pin themselves to the other CPUs.
	var mu sync.Mutex
	seen := map[int]int{}
	others := func() int { return len(seen) - min(seen[want[0]], 1) }
	for try := 0; try < 50 && others() == 0; try++ {
		p.For(4*n, 1, func(lo, hi int) {
			time.Sleep(time.Millisecond)
			var set unix.CPUSet
			unix.SchedGetaffinity(0, &set)
			mu.Lock()
			seen[onlyCPU(set)]++
			mu.Unlock()
		})
	}
	for cpu := range seen {
		if !planned[cpu] {
			t.Errorf("a chunk ran on CPU %d (-1: unpinned), want %v only: %v", cpu, want, seen)
		}
	}
	if others() == 0 {
		t.Errorf("no worker ran a chunk pinned to CPUs %v: %v", want[1:], seen)
	}
	unpin()
	if after := threadMask(t); after != before {
		t.Errorf("unpin left the mask %v, was %v", after, before)
	}
	// An unpinned caller's loops run on unpinned threads: the workers let
	// go of their CPUs.
	p.For(4*n, 1, func(lo, hi int) {
		time.Sleep(time.Millisecond)
		var set unix.CPUSet
		unix.SchedGetaffinity(0, &set)
		if set != before {
			t.Errorf("a chunk of an unpinned loop ran with the mask %v, want %v", set, before)
		}
	})
}

// TestPoolPinOff checks the switch and the pools that do not pin.
func TestPoolPinOff(t *testing.T) {
	t.Setenv("SPLADE_PIN_THREADS", "0")
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := threadMask(t)
	for _, p := range []*Pool{nil, NewPool(1), NewPool(2)} {
		unpin := p.Pin()
		if m := threadMask(t); m != before {
			t.Errorf("pool of %d threads: Pin changed the mask with pinning off", p.Threads())
		}
		unpin()
	}
}
