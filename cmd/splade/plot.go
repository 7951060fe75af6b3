package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/splade-go/splade/study"
)

const plotHelp = `Draws the effectiveness/efficiency trade-off of trained SPLADE models, like
Figure 1 of the SPLADE paper: nDCG@10 against FLOPS and against the average
number of non-zero terms per document, one point per model (one lambda), with
baselines as horizontal lines. The points file is tab-separated with a header:
label, lambda_d, lambda_q, ndcg_cut_10, flops, docs_nnz_mean, queries_nnz_mean
(the last three as "splade stats" prints them). The format follows the output
name: .svg, .png or .pdf.

Examples:
  splade plot-tradeoff --points study/points.tsv --baseline BM25=0.6789 \
      --baseline "SPLADE++ (published)=0.7041" --title "SciFact test" --output figure1.svg`

func init() {
	register(command{name: "plot-tradeoff", summary: "plot nDCG@10 against FLOPS and document length (the paper's Figure 1)", run: runPlot})
}

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func runPlot(args []string) error {
	fs := newFlags("plot-tradeoff", "--points FILE --output FILE [--baseline LABEL=NDCG ...]", plotHelp)
	points := fs.String("points", "", "points file (TSV with a header)")
	out := fs.String("output", "", "figure file: .svg, .png or .pdf")
	alias(fs, "output", "out")
	title := fs.String("title", "", "title of the figure")
	var baselines listFlag
	fs.Var(&baselines, "baseline", "a reference drawn as a line, LABEL=nDCG@10 (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *points == "" || *out == "" {
		return usagef("--points and --output are required (see splade plot-tradeoff -h)")
	}
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(*out)), ".")
	if format != "svg" && format != "png" && format != "pdf" {
		return usagef("--output %q: want a .svg, .png or .pdf file", *out)
	}
	var bs []study.Baseline
	for _, s := range baselines {
		b, err := study.ParseBaseline(s)
		if err != nil {
			return usagef("--baseline: %v", err)
		}
		bs = append(bs, b)
	}
	f, err := os.Open(*points)
	if err != nil {
		return err
	}
	ps, err := study.ReadPoints(f, *points)
	f.Close()
	if err != nil {
		return err
	}
	w, done, err := createOutput(*out)
	if err != nil {
		return err
	}
	err = study.Figure(w, ps, bs, *title, format)
	return errors.Join(err, done(err == nil))
}
