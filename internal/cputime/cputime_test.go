package cputime

import "testing"

// TestSeconds: CPU time grows while the process computes.
func TestSeconds(t *testing.T) {
	t0 := Seconds()
	if t0 == 0 {
		t.Skip("CPU time not reported on this OS")
	}
	x := 1.0
	for i := 0; i < 50_000_000; i++ {
		x = x*1.0000001 + 1e-9
	}
	if t1 := Seconds(); t1 <= t0 || x == 0 {
		t.Fatalf("CPU time did not grow: %g then %g", t0, t1)
	}
}
