//go:build !race

// Package racedetect tells whether the race detector is compiled in, so
// that the heaviest tests can run on less data under it (it slows Go code
// ten-fold or more) instead of being skipped.
package racedetect

// Enabled reports whether the race detector is compiled in.
const Enabled = false
