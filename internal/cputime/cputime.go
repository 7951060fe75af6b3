// Package cputime reads the CPU time the process has used, for benchmarks
// on shared machines: throughput per CPU-second moves far less with other
// jobs' load than throughput per wall-clock second.
package cputime

// Seconds returns the CPU time (user + system, all threads) of the process
// so far, or 0 where the OS does not report it.
func Seconds() float64 { return seconds() }

// ThreadNanos returns the CPU time consumed by the calling OS thread, in
// nanoseconds, or 0 outside Linux. With the goroutine locked to its thread
// it measures one query's own work, where wall-clock latency also counts
// the time other processes held the core.
func ThreadNanos() int64 { return threadNanos() }
