//go:build !linux

package cputime

func threadNanos() int64 { return 0 }
