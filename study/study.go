// Package study draws the effectiveness/efficiency trade-off of SPLADE
// models, as Figure 1 of the SPLADE paper (Formal et al., SIGIR 2021)
// does: each trained model (one regularization weight lambda) is a point
// of effectiveness (nDCG@10) against cost, measured as the paper's FLOPS
// (the expected number of multiplications of a query-document dot product)
// and as the average number of non-zero terms per document (index size).
// Baselines without a cost axis (BM25, a published model) are drawn as
// horizontal lines.
//
// The points come from a tab-separated file, one model per line, with a
// header naming the columns (label, lambda_d, lambda_q, ndcg_cut_10,
// flops, docs_nnz_mean, queries_nnz_mean; any others are kept but not
// drawn). Plots are drawn with gonum/plot.
package study

import (
	"bufio"
	"fmt"
	"image/color"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Point is one trained model.
type Point struct {
	Label            string
	LambdaD, LambdaQ float64
	NDCG10           float64
	FLOPS            float64
	DocNNZ, QueryNNZ float64
}

// Baseline is a reference effectiveness drawn as a horizontal line.
type Baseline struct {
	Label  string
	NDCG10 float64
}

// columns a points file must have.
var required = []string{"label", "lambda_d", "lambda_q", "ndcg_cut_10", "flops", "docs_nnz_mean", "queries_nnz_mean"}

// ReadPoints parses a points file (see the package doc); name is used in
// errors.
func ReadPoints(r io.Reader, name string) ([]Point, error) {
	sc := bufio.NewScanner(r)
	col := map[string]int{}
	var out []Point
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Split(text, "\t")
		if len(col) == 0 {
			for i, c := range f {
				col[strings.TrimSpace(c)] = i
			}
			for _, c := range required {
				if _, ok := col[c]; !ok {
					return nil, fmt.Errorf("%s:%d: header lacks column %q (want %s)", name, line, c, strings.Join(required, ", "))
				}
			}
			continue
		}
		if len(f) != len(col) {
			return nil, fmt.Errorf("%s:%d: %d columns, the header has %d", name, line, len(f), len(col))
		}
		num := func(c string) (float64, error) {
			v, err := strconv.ParseFloat(strings.TrimSpace(f[col[c]]), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return 0, fmt.Errorf("%s:%d: column %s: %q is not a non-negative number", name, line, c, f[col[c]])
			}
			return v, nil
		}
		p := Point{Label: strings.TrimSpace(f[col["label"]])}
		var err error
		for _, x := range []struct {
			c string
			v *float64
		}{{"lambda_d", &p.LambdaD}, {"lambda_q", &p.LambdaQ}, {"ndcg_cut_10", &p.NDCG10}, {"flops", &p.FLOPS},
			{"docs_nnz_mean", &p.DocNNZ}, {"queries_nnz_mean", &p.QueryNNZ}} {
			if *x.v, err = num(x.c); err != nil {
				return nil, err
			}
		}
		if p.NDCG10 > 1 {
			return nil, fmt.Errorf("%s:%d: ndcg_cut_10 %g above 1", name, line, p.NDCG10)
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	if len(col) == 0 {
		return nil, fmt.Errorf("%s: empty (no header)", name)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no points", name)
	}
	return out, nil
}

// ParseBaseline parses "label=value", e.g. "BM25=0.6789".
func ParseBaseline(s string) (Baseline, error) {
	i := strings.LastIndexByte(s, '=')
	if i <= 0 {
		return Baseline{}, fmt.Errorf("baseline %q: want label=nDCG@10", s)
	}
	v, err := strconv.ParseFloat(s[i+1:], 64)
	if err != nil || v < 0 || v > 1 {
		return Baseline{}, fmt.Errorf("baseline %q: nDCG@10 must be a number in [0, 1]", s)
	}
	return Baseline{Label: s[:i], NDCG10: v}, nil
}

// Figure writes the trade-off figure: nDCG@10 against FLOPS (left, log
// scale) and against average document non-zeros (right), each model a
// labeled point, joined in order of increasing cost; baselines as dashed
// lines. format is one gonum/plot canvas format: "svg", "png", "pdf"...
func Figure(w io.Writer, points []Point, baselines []Baseline, title, format string) error {
	if len(points) == 0 {
		return fmt.Errorf("no points to draw")
	}
	left, err := panel(points, baselines, "FLOPS (expected multiplications per query-document pair)", true,
		func(p Point) float64 { return p.FLOPS })
	if err != nil {
		return err
	}
	right, err := panel(points, baselines, "average non-zero terms per document", false,
		func(p Point) float64 { return p.DocNNZ })
	if err != nil {
		return err
	}
	left.Title.Text = title
	const width, height = 11 * vg.Inch, 4.5 * vg.Inch
	c, err := draw.NewFormattedCanvas(width, height, format)
	if err != nil {
		return err
	}
	plots := [][]*plot.Plot{{left, right}}
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Centimeter, PadY: vg.Centimeter,
		PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 3}
	dc := draw.New(c)
	canvases := plot.Align(plots, tiles, dc)
	left.Draw(canvases[0][0])
	right.Draw(canvases[0][1])
	_, err = c.WriteTo(w)
	return err
}

var palette = []color.Color{
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
}

// panel draws nDCG@10 against one cost measure.
func panel(points []Point, baselines []Baseline, xlabel string, logX bool, cost func(Point) float64) (*plot.Plot, error) {
	ps := append([]Point(nil), points...)
	sort.SliceStable(ps, func(i, j int) bool { return cost(ps[i]) < cost(ps[j]) })
	xy := make(plotter.XYs, len(ps))
	labels := make([]string, len(ps))
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, p := range ps {
		x := cost(p)
		if logX && x <= 0 {
			return nil, fmt.Errorf("model %q: cost %g cannot be drawn on a log scale", p.Label, x)
		}
		xy[i] = plotter.XY{X: x, Y: p.NDCG10}
		labels[i] = p.Label
		lo, hi = min(lo, x), max(hi, x)
	}
	p := plot.New()
	p.X.Label.Text = xlabel
	p.Y.Label.Text = "nDCG@10"
	if logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
	}
	p.Add(plotter.NewGrid())
	line, scatter, err := plotter.NewLinePoints(xy)
	if err != nil {
		return nil, err
	}
	line.Color = color.RGBA{B: 0xb4, G: 0x77, R: 0x1f, A: 0xff}
	scatter.Color = line.Color
	scatter.Shape = draw.CircleGlyph{}
	p.Add(line, scatter)
	p.Legend.Add("SPLADE (this trainer)", line, scatter)
	lab, err := plotter.NewLabels(plotter.XYLabels{XYs: xy, Labels: labels})
	if err != nil {
		return nil, err
	}
	for i := range lab.TextStyle {
		lab.TextStyle[i].Font.Size = vg.Points(8)
		lab.TextStyle[i].XAlign = draw.XLeft
	}
	lab.Offset = vg.Point{X: vg.Points(4), Y: vg.Points(4)}
	p.Add(lab)
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, q := range ps {
		ymin, ymax = min(ymin, q.NDCG10), max(ymax, q.NDCG10)
	}
	for i, b := range baselines {
		bl, err := plotter.NewLine(plotter.XYs{{X: lo, Y: b.NDCG10}, {X: hi, Y: b.NDCG10}})
		if err != nil {
			return nil, err
		}
		bl.Color = palette[i%len(palette)]
		bl.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		p.Add(bl)
		p.Legend.Add(fmt.Sprintf("%s (%.4f)", b.Label, b.NDCG10), bl)
		ymin, ymax = min(ymin, b.NDCG10), max(ymax, b.NDCG10)
	}
	pad := max(0.01, (ymax-ymin)*0.1)
	p.Y.Min, p.Y.Max = max(0, ymin-pad), min(1, ymax+pad)
	if lo == hi {
		p.X.Min, p.X.Max = lo*0.9, hi*1.1
	} else if !logX {
		p.X.Min, p.X.Max = lo-(hi-lo)*0.05, hi+(hi-lo)*0.2
	} else {
		p.X.Min, p.X.Max = lo/1.3, hi*1.6
	}
	p.Legend.Top = false
	p.Legend.Left = false
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	return p, nil
}

// logTicks labels 1, 2 and 5 times each power of ten on a log axis, with
// the other integer multiples as unlabeled minor ticks: a study's FLOPS
// often spans less than a decade, where plot.LogTicks labels nothing.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for e := math.Floor(math.Log10(lo)); math.Pow(10, e) <= hi; e++ {
		base := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := float64(m) * base
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ts = append(ts, t)
		}
	}
	return ts
}
