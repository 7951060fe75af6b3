//go:build race

package index_test

// raceEnabled makes the crash test lighter under the race detector (the
// child builds run race-instrumented, many times slower).
const raceEnabled = true
