// Package cputime reads the CPU time the process has used, for benchmarks
// on shared machines: throughput per CPU-second moves far less with other
// jobs' load than throughput per wall-clock second.
package cputime

// Seconds returns the CPU time (user + system, all threads) of the process
// so far, or 0 where the OS does not report it.
func Seconds() float64 { return seconds() }
