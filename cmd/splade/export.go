package main

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/splade-go/splade/export"
	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/sparse"
)

func init() {
	register(command{name: "export", summary: "export an index or vectors for PISA/Anserini (CIFF), OpenSearch/Elasticsearch, Qdrant", run: runExport})
}

const exportUsage = `Usage: splade export <format> [flags]   (splade export <format> -h for help)

Formats:
  ciff        an index as CIFF (Common Index File Format) for PISA, Anserini, JASS
  opensearch  vectors as _bulk NDJSON for OpenSearch/Elasticsearch rank_features or sparse_vector
  qdrant      vectors as JSON lines of Qdrant points with sparse vectors

Vectors for Anserini need no export: splade encode already writes its
JsonVectorCollection format.`

func runExport(args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, exportUsage)
		return usagef("missing format")
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help" {
		fmt.Println(exportUsage)
		return nil
	}
	switch args[0] {
	case "ciff":
		return runExportCIFF(args[1:])
	case "opensearch", "elasticsearch":
		return runExportOpenSearch(args[1:])
	case "qdrant":
		return runExportQdrant(args[1:])
	}
	return usagef("unknown export format %q (want ciff, opensearch or qdrant; see splade export -h)", args[0])
}

const exportCIFFHelp = `Writes a built index as CIFF, the Common Index File Format of the OSIRRC
initiative (a Header, one PostingsList per term in lexicographic order, one
DocRecord per document, as length-delimited protobuf messages), which PISA
(ciff2pisa), Anserini and JASS import. Each posting's integer impact is
written as its tf, as learned sparse indexes are exchanged between those
engines; a document's length is the sum of its impacts. u8 indexes export
their stored impacts; f16/f32 indexes are quantized to --ciff-bits bits with
one global scale, recorded in the header's description. A name ending in .gz
is gzip-compressed.

Examples:
  splade export ciff --index idx --output msmarco-splade.ciff
  splade export ciff --index idx-f32 --output idx.ciff.gz --ciff-bits 9
  ciff2pisa --ciff-file msmarco-splade.ciff --output pisa/canonical`

func runExportCIFF(args []string) error {
	fs := newFlags("export ciff", "--index DIR --output FILE.ciff[.gz] [flags]", exportCIFFHelp)
	dir := fs.String("index", "", "index directory (built by splade index)")
	output := fs.String("output", "", "CIFF file to write (.gz: gzip-compressed)")
	bits := fs.Int("ciff-bits", 8, "impact bits for f16/f32 indexes (1..16); u8 indexes keep theirs")
	desc := fs.String("description", "", "text prepended to the header's description")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" || *output == "" {
		return usagef("--index and --output are required (see splade export ciff -h)")
	}
	if *bits < 1 || *bits > 16 {
		return usagef("--ciff-bits must be in 1..16, got %d", *bits)
	}
	ix, err := index.Open(*dir)
	if err != nil {
		return err
	}
	defer ix.Close()
	if ix.Quantization() == index.QuantU8 && *bits != 8 {
		slog.Warn("--ciff-bits is ignored for a u8 index: its 8-bit impacts are exported unchanged", "bits", *bits)
	}
	bar := newProgress(int64(ix.NumTerms()), "exporting terms")
	var st export.CIFFStats
	err = writeOutput(*output, func(w io.Writer) error {
		st, err = export.WriteCIFF(w, ix, export.CIFFOptions{Bits: *bits, Description: *desc, Progress: func(n int) { bar.Set(n) }})
		return err
	})
	bar.Finish()
	if err != nil {
		return err
	}
	fmt.Printf("output\t%s\nterms\t%d\ndocs\t%d\npostings\t%d\nimpact_scale\t%.9g\nrequantized\t%v\n",
		*output, st.Terms, st.Docs, st.Postings, st.Scale, st.Requantized)
	return nil
}

const exportOpenSearchHelp = `Writes document vectors (JSONL {"id", "vector": {term: weight}}, .gz ok) as
the NDJSON body of a _bulk request: per document an action line
{"index":{"_index":NAME,"_id":ID}} and a source line {FIELD:{term:weight}}.
Map FIELD as rank_features (OpenSearch neural sparse search) or
sparse_vector (Elasticsearch). Both accept only positive weights: zero
weights are left out (and counted), negative ones are an error.
rank_features, and sparse_vector before Elasticsearch 8.16, reject dots in
feature names; --dots escape (default) writes '.' as %2E and '%' as %25
(query vectors must be escaped alike), keep writes terms unchanged, error
stops at the first such term. A name ending in .gz is gzip-compressed; large
files should be split before POSTing (e.g. split -l 2000).

Examples:
  splade export opensearch --input docs.jsonl.gz --index-name msmarco --output bulk.ndjson
  splade export opensearch --input docs.jsonl --index-name scifact --field splade --dots keep --output bulk.ndjson
  curl -H 'Content-Type: application/x-ndjson' -XPOST localhost:9200/_bulk --data-binary @bulk.ndjson`

func runExportOpenSearch(args []string) error {
	fs := newFlags("export opensearch", "--input FILE --index-name NAME --output FILE [flags]", exportOpenSearchHelp)
	input := fs.String("input", "", "document vectors (JSONL, .gz ok)")
	output := fs.String("output", "", "bulk NDJSON file to write (.gz: gzip-compressed)")
	name := fs.String("index-name", "", "target index (_index of every action)")
	field := fs.String("field", "splade", "rank_features / sparse_vector field name")
	dots := fs.String("dots", "escape", "terms containing '.': escape, keep or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *input == "" || *output == "" || *name == "" {
		return usagef("--input, --index-name and --output are required (see splade export opensearch -h)")
	}
	if *field == "" {
		return usagef("--field must not be empty")
	}
	dp, err := export.ParseDotPolicy(*dots)
	if err != nil {
		return usagef("%v", err)
	}
	var bw *export.BulkWriter
	err = writeOutput(*output, func(w io.Writer) error {
		if bw, err = export.NewBulkWriter(w, export.OpenSearchOptions{Index: *name, Field: *field, Dots: dp}); err != nil {
			return err
		}
		if err := streamVectors(*input, bw.Write); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return err
	}
	fmt.Printf("output\t%s\ndocs\t%d\nfeatures\t%d\nzero_weights_left_out\t%d\n", *output, bw.Docs, bw.Features, bw.Zeros)
	return nil
}

const exportQdrantHelp = `Writes document vectors (JSONL, .gz ok) as JSON lines of Qdrant points,
{"id":N,"vector":{NAME:{"indices":[...],"values":[...]}},"payload":{"doc_id":ID}},
ready to batch into PUT /collections/C/points ({"points":[...]}) or a client's
upsert. Qdrant point ids must be unsigned integers or UUIDs, so N is the
record's ordinal (from --first-id) and the external id is in the payload.
Indices are term ids from --vocab (the model's vocab.txt: id = 0-based line
number), the same ids a query encoder must use; a term missing from the
vocabulary is an error naming the input line. Create the collection with a
sparse vector NAME, e.g. {"sparse_vectors":{"splade":{}}}.

Examples:
  splade export qdrant --input docs.jsonl.gz --vocab model/vocab.txt --output points.jsonl
  splade export qdrant --input docs.jsonl --vocab vocab.txt --vector-name text-sparse --output points.jsonl.gz`

func runExportQdrant(args []string) error {
	fs := newFlags("export qdrant", "--input FILE --vocab vocab.txt --output FILE [flags]", exportQdrantHelp)
	input := fs.String("input", "", "document vectors (JSONL, .gz ok)")
	output := fs.String("output", "", "points JSONL file to write (.gz: gzip-compressed)")
	vocabPath := fs.String("vocab", "", "vocabulary, one term per line (id = 0-based line number)")
	vname := fs.String("vector-name", "splade", "name of the collection's sparse vector")
	first := fs.Uint64("first-id", 0, "point id of the first record")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *input == "" || *output == "" || *vocabPath == "" {
		return usagef("--input, --vocab and --output are required (see splade export qdrant -h)")
	}
	if *vname == "" {
		return usagef("--vector-name must not be empty")
	}
	vocab, err := export.LoadVocab(*vocabPath)
	if err != nil {
		return err
	}
	var qw *export.QdrantWriter
	err = writeOutput(*output, func(w io.Writer) error {
		if qw, err = export.NewQdrantWriter(w, vocab, *vname, *first); err != nil {
			return err
		}
		if err := streamVectors(*input, qw.Write); err != nil {
			return fmt.Errorf("%w (vocabulary %s)", err, *vocabPath)
		}
		return qw.Flush()
	})
	if err != nil {
		return err
	}
	fmt.Printf("output\t%s\npoints\t%d\nvalues\t%d\n", *output, qw.Points, qw.Values)
	return nil
}

// streamVectors calls write for each record of a vector file, naming the
// file and line in errors.
func streamVectors(path string, write func(sparse.Record) error) error {
	r, err := sparse.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	bar := newProgress(-1, "exporting documents")
	defer bar.Finish()
	n := 0
	err = r.Each(runtime.GOMAXPROCS(0), func(rec sparse.Record, line int) error {
		if err := write(rec); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if n++; n%1024 == 0 {
			bar.Set(n)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s: no documents", path)
	}
	return nil
}

// writeOutput writes path through a temporary file renamed into place on
// success, so a failed export never leaves a truncated file behind; a name
// ending in .gz is gzip-compressed.
func writeOutput(path string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	var w io.Writer = bw
	var gz *gzip.Writer
	if strings.HasSuffix(path, ".gz") {
		gz = gzip.NewWriter(bw)
		w = gz
	}
	if err := write(w); err != nil {
		return err
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return errors.Join(err, os.Remove(f.Name()))
	}
	return nil
}
