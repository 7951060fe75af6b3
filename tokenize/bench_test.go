package tokenize

import (
	"errors"
	"io"
	"testing"

	"github.com/splade-go/splade/corpus"
	"github.com/splade-go/splade/internal/shareddata"
)

// fallbackParagraph stands in for SciFact when the shared data is absent (a
// public-domain style scientific abstract).
const fallbackParagraph = "Alterations of the architecture of cerebral white matter in the developing human brain " +
	"can affect cortical development and result in functional disabilities. A line scan diffusion-weighted " +
	"magnetic resonance imaging (MRI) sequence with diffusion tensor analysis was applied to measure the apparent " +
	"diffusion coefficient, to calculate relative anisotropy, and to delineate three-dimensional fiber architecture " +
	"in cerebral white matter in preterm (n = 17) and full-term infants (n = 7)."

// benchSetup returns a tokenizer and texts: bert-base-uncased on the first
// 1,000 SciFact abstracts (title and text), or the toy vocabulary on a
// built-in paragraph when the shared data is absent.
func benchSetup(b *testing.B) (*Tokenizer, []string, int64) {
	b.Helper()
	var texts []string
	tok := mustNew(b, smallVocab, DefaultOptions())
	if dir := shareddata.Path("bert-base-uncased"); dir != "" {
		var err error
		if tok, err = Load(dir); err != nil {
			b.Fatal(err)
		}
	}
	if p := shareddata.Path("beir/scifact/corpus.jsonl.gz"); p != "" {
		r, err := corpus.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		for len(texts) < 1000 {
			d, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			texts = append(texts, d.Contents())
		}
		r.Close()
	} else {
		b.Log("SciFact absent: benchmarking the built-in paragraph")
		for range 100 {
			texts = append(texts, fallbackParagraph)
		}
	}
	var n int64
	for _, s := range texts {
		n += int64(len(s))
	}
	return tok, texts, n
}

// BenchmarkTokenize measures WordPiece throughput (MB/s of input text) over
// whole documents.
func BenchmarkTokenize(b *testing.B) {
	tok, texts, n := benchSetup(b)
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range texts {
			tok.TokenizeIDs(s)
		}
	}
}

// BenchmarkEncode256 measures encoding truncated to 256 tokens into a reused
// buffer, the way a SPLADE document encoder feeds the model.
func BenchmarkEncode256(b *testing.B) {
	tok, texts, n := benchSetup(b)
	b.SetBytes(n)
	b.ReportAllocs()
	var buf []int32
	for b.Loop() {
		for _, s := range texts {
			buf = tok.AppendEncode(buf[:0], s, 256)
		}
	}
}

// BenchmarkTokenizeParallel measures throughput with all cores sharing one
// Tokenizer.
func BenchmarkTokenizeParallel(b *testing.B) {
	tok, texts, n := benchSetup(b)
	b.SetBytes(n / int64(len(texts)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var buf []int32
		for i := 0; pb.Next(); i++ {
			buf = tok.AppendEncode(buf[:0], texts[i%len(texts)], 0)
		}
	})
}
