package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestPretrainStopAfter: --stop-after N runs the first N steps of the
// --steps schedule (the learning rate decays as for --steps) and saves a
// loadable checkpoint, which is how TRAINING.md's early-stopped
// pre-training checkpoints are reproduced.
func TestPretrainStopAfter(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "docs.tsv")
	vocab := filepath.Join(dir, "vocab.txt")
	if err := os.WriteFile(corpus, []byte("d1\tthe cat sat on the mat\nd2\ta dog ran in the park\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vocab, []byte("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\ncat\nsat\non\nmat\na\ndog\nran\nin\npark\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "mlm")
	code, _, stderr := splade(t, nil, "pretrain", "--corpus", corpus, "--vocab", vocab, "--layers", "1",
		"--hidden", "8", "--heads", "2", "--steps", "10", "--stop-after", "5", "--batch", "2",
		"--max-length", "8", "--warmup", "2", "--lr", "1e-3", "--threads", "1", "--output", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f, err := os.Open(filepath.Join(out, "pretrain_log.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lrs []float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec struct{ LR float64 }
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		lrs = append(lrs, rec.LR)
	}
	// Warmup 2 of 10 steps, then linear decay to 0 at step 10: step
	// (0-based) 4 runs at 1e-3 * 6/8, where a 5-step schedule would be at 1/3.
	if len(lrs) != 5 || lrs[4] < 0.7e-3 || lrs[4] > 0.8e-3 {
		t.Fatalf("learning rates %v: want 5 steps of a 10-step schedule", lrs)
	}
	if _, err := os.Stat(filepath.Join(out, "model.safetensors")); err != nil {
		t.Fatal(err)
	}
}
