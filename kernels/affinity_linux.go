package kernels

import (
	"os"
	"runtime"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// nextCPU rotates the CPU plans of successive pools, so that two pools in
// one process do not pin their callers to the same CPU.
var nextCPU atomic.Int64

// planCPUs returns one CPU for the caller and one per worker of a pool of
// n threads, or nil when pinning is off: SPLADE_PIN_THREADS=0, or a pool
// that does not have exactly one thread per CPU the process may use. A
// pool bigger than its CPU set gains nothing from pinning, and one smaller
// should leave the scheduler free to pick the idle CPUs.
func planCPUs(n int) []int {
	if os.Getenv("SPLADE_PIN_THREADS") == "0" {
		return nil
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil
	}
	if set.Count() != n {
		return nil
	}
	allowed := make([]int, 0, n)
	for c := 0; len(allowed) < n; c++ {
		if set.IsSet(c) {
			allowed = append(allowed, c)
		}
	}
	first := int(nextCPU.Add(1) - 1)
	cpus := make([]int, n)
	for i := range cpus {
		cpus[i] = allowed[(first+i)%len(allowed)]
	}
	return cpus
}

// pinThread holds the calling goroutine on its OS thread and that thread
// on cpu. It returns a function that restores the thread's mask and
// unlocks it, or nil when the mask could not be set (nothing changed).
func pinThread(cpu int) func() {
	runtime.LockOSThread()
	var old, set unix.CPUSet
	if unix.SchedGetaffinity(0, &old) != nil {
		runtime.UnlockOSThread()
		return nil
	}
	set.Set(cpu)
	if unix.SchedSetaffinity(0, &set) != nil {
		runtime.UnlockOSThread()
		return nil
	}
	return func() {
		// The mask read above can be set again; should it fail, the
		// thread stays locked to this goroutine rather than go back to
		// the runtime pinned.
		if unix.SchedSetaffinity(0, &old) == nil {
			runtime.UnlockOSThread()
		}
	}
}
