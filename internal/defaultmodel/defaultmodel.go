// Package defaultmodel embeds the SPLADE model that this repository's own
// trainer produced (see MODEL_CARD.md here and TRAINING.md), so that `splade
// quickstart` and `--model default` work on a fresh machine with no
// download: no pretrained weights can be fetched where this project is
// built, and a retrieval toolkit that can only be tried with a model the user
// must bring is not one a newcomer can try.
//
// The files are a Hugging Face checkpoint (config.json, model.safetensors,
// vocab.txt, tokenizer_config.json) that package model loads like any
// other; Path writes them once to a cache directory and returns it.
package defaultmodel

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Name is what --model takes to mean this model.
const Name = "default"

//go:embed files
var files embed.FS

// Files returns the checkpoint's files (a Hugging Face layout, at the root
// of the returned file system).
func Files() fs.FS {
	sub, err := fs.Sub(files, "files")
	if err != nil {
		panic(err) // the embedded tree always has the directory
	}
	return sub
}

// fingerprint is filesFingerprint() of the embedded files, written down so
// that commands need not hash 19 MB of weights at every start (41 ms);
// TestFingerprint fails, giving the new value, when the files change and
// this does not.
const fingerprint = "7f28a358ce0727603b2059ffb86e5697f5bf1b22c1b60fe503d25311cc99b520"

// Fingerprint identifies the embedded weights (SHA-256 of every file, by
// name), so that a cached copy is reused only when it is this one.
func Fingerprint() (string, error) { return fingerprint, nil }

// filesFingerprint computes the fingerprint from the embedded files.
func filesFingerprint() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Files(), p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", p, len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// Extract writes the checkpoint into dir (created if needed).
func Extract(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return fs.WalkDir(Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Files(), p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), b, 0o644)
	})
}

// Path returns a directory holding the checkpoint, writing it on first use
// under the user's cache directory (or the temporary directory when there is
// none): <cache>/splade/models/default-<fingerprint prefix>. A directory is
// complete once its name exists: it is written under a temporary name and
// renamed.
func Path() (string, error) {
	fp, err := Fingerprint()
	if err != nil {
		return "", err
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	root := filepath.Join(base, "splade", "models")
	dir := filepath.Join(root, Name+"-"+fp[:16])
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return dir, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("default model: %w", err)
	}
	tmp, err := os.MkdirTemp(root, ".partial-")
	if err != nil {
		return "", fmt.Errorf("default model: %w", err)
	}
	if err := Extract(tmp); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("default model: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		// Another process may have won the race; its copy is as good.
		if st, serr := os.Stat(dir); serr == nil && st.IsDir() {
			return dir, nil
		}
		return "", fmt.Errorf("default model: %w", err)
	}
	return dir, nil
}

// Resolve maps a --model value to a directory: Name to Path(), anything
// else unchanged.
func Resolve(model string) (string, error) {
	if model == Name {
		return Path()
	}
	return model, nil
}
