//go:build race

package serve

// raceEnabled lightens the heaviest tests under the race detector, which
// slows this code ten-fold or more; they still run, on less data.
const raceEnabled = true
