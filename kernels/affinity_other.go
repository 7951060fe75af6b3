//go:build !linux

package kernels

// planCPUs: threads are pinned on Linux only (see Pool.Pin).
func planCPUs(int) []int { return nil }

func pinThread(int) func() { return nil }
