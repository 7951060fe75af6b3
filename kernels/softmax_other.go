//go:build !amd64

package kernels

// The softmax passes have no vector implementation outside amd64; the
// portable loops in softmaxScaled do all the work.

func softmaxExpFast(x []float32, scale float32, m float64) (int, float64) { return 0, 0 }

func scaleFast(x []float32, inv float64) int { return 0 }

func maxFast(x []float32) (float32, int) { return 0, 0 }
