package search

import (
	"os"
	"testing"
)

// TestMain keeps every k on Block-Max Pruning (ExhaustiveK above 1), so
// that the tests comparing it with exhaustive search on small corpora
// exercise its pruning at k = 100 too; TestSwitchToExhaustive tests the
// default hand-over.
func TestMain(m *testing.M) {
	ExhaustiveK = 2
	os.Exit(m.Run())
}
