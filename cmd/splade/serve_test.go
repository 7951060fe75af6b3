package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/sparse"
)

func TestServeStartupErrors(t *testing.T) {
	dir := t.TempDir()
	recs := []sparse.Record{{ID: "d1", Vector: sparse.Vector{Terms: []string{"moon"}, Weights: []float32{1}}}}
	if _, err := index.Build(dir, recs, index.BuildOptions{Fingerprint: "not-this-vocabulary"}); err != nil {
		t.Fatal(err)
	}
	bert := filepath.Join("..", "..", "model", "testdata", "bert")
	for _, tc := range []struct {
		name  string
		args  []string
		usage bool
		msg   string
	}{
		{"no index", nil, true, "--index is required"},
		{"bad limit", []string{"--index", dir, "--max-k", "0"}, true, "must be positive"},
		{"missing index", []string{"--index", filepath.Join(dir, "nope")}, false, "nope"},
		{"fingerprint mismatch", []string{"--index", dir, "--model", bert}, false, "fingerprint"},
		{"bad pooling", []string{"--index", dir, "--model", bert, "--pooling", "mean"}, true, `"mean"`},
		{"negative top-k", []string{"--index", dir, "--model", bert, "--top-k", "-1"}, true, "negative"},
		{"bad address", []string{"--index", dir, "--addr", "256.0.0.1:bad"}, false, "listening on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := runServe(tc.args)
			var ue usageError
			if err == nil || errors.As(err, &ue) != tc.usage || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("runServe(%q) = %v, want usage=%v error with %q", tc.args, err, tc.usage, tc.msg)
			}
		})
	}
}
