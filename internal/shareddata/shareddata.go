// Package shareddata locates the real data sets that live beside the
// repository in ../shared/data. Users' clones do not have them, so tests ask
// for them through Dir, which skips the test with a clear message when they
// are absent.
package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

// Root returns the repository root (the directory holding go.mod), found by
// walking up from the working directory.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// Path returns ../shared/data/<rel> relative to the repository root, or ""
// when it does not exist.
func Path(rel string) string {
	root, err := Root()
	if err != nil {
		return ""
	}
	p := filepath.Join(root, "..", "shared", "data", rel)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// Require returns the path of ../shared/data/<rel>, skipping the test when
// it is absent.
func Require(tb testing.TB, rel string) string {
	tb.Helper()
	p := Path(rel)
	if p == "" {
		tb.Skipf("skipping: shared data %q not found (expected ../shared/data beside the repository root; present in CI, absent in users' clones)", rel)
	}
	return p
}
