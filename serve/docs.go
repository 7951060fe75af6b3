package serve

import (
	"errors"
	"fmt"
	"io"

	"github.com/splade-go/splade/corpus"
	"github.com/splade-go/splade/sparse"
)

// DocStore holds, in memory, what the index does not keep in a form that
// is cheap to read back: document texts (to show them, and to tell written
// terms from expansion terms) and whole document vectors (to list a
// document's heaviest terms). Both are optional; a nil *DocStore holds
// nothing. Memory is about the size of the files loaded.
type DocStore struct {
	texts   map[string]string
	vectors map[string]sparse.Vector
}

// LoadCorpus adds the texts of a corpus file (BEIR JSONL or id<TAB>text
// TSV, gzip ok). Only documents for which keep returns true are held (nil
// keeps all).
func (ds *DocStore) LoadCorpus(path string, keep func(id string) bool) (int, error) {
	r, err := corpus.Open(path)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	if ds.texts == nil {
		ds.texts = map[string]string{}
	}
	n := 0
	for {
		d, err := r.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if keep != nil && !keep(d.ID) {
			continue
		}
		ds.texts[d.ID] = d.Contents()
		n++
	}
}

// LoadVectors adds the document vectors of a vector JSONL file (gzip ok).
// A document id repeated in the file is an error naming the line.
func (ds *DocStore) LoadVectors(path string, keep func(id string) bool) (int, error) {
	r, err := sparse.Open(path)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	if ds.vectors == nil {
		ds.vectors = map[string]sparse.Vector{}
	}
	n := 0
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if keep != nil && !keep(rec.ID) {
			continue
		}
		if _, dup := ds.vectors[rec.ID]; dup {
			return n, fmt.Errorf("%s:%d: duplicate document id %q", path, r.Line(), rec.ID)
		}
		ds.vectors[rec.ID] = rec.Vector
		n++
	}
}

func (ds *DocStore) text(id string) string {
	if ds == nil {
		return ""
	}
	return ds.texts[id]
}

func (ds *DocStore) vector(id string) (sparse.Vector, bool) {
	if ds == nil {
		return sparse.Vector{}, false
	}
	v, ok := ds.vectors[id]
	return v, ok
}

func (ds *DocStore) hasTexts() bool   { return ds != nil && len(ds.texts) > 0 }
func (ds *DocStore) hasVectors() bool { return ds != nil && len(ds.vectors) > 0 }
