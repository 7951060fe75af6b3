package search

import "golang.org/x/sys/unix"

// threadCPU returns the CPU time consumed by the calling OS thread. On a
// shared machine it measures a query's own work, where wall-clock latency
// also counts the time other processes held the core.
func threadCPU() int64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return ts.Nano()
}
