package cputime

import "golang.org/x/sys/unix"

// threadNanos reads CLOCK_THREAD_CPUTIME_ID.
func threadNanos() int64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return ts.Nano()
}
