package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// File is one output file of a report: a name (no directory) and bytes.
type File struct {
	Name string
	Data []byte
}

// Plot size.
const (
	plotW = 8 * vg.Inch
	plotH = 5 * vg.Inch
)

// maxPlotGroups: up to this many params groups of a workload share one
// per-resume or native chart; with more, the chart shows the first group.
const maxPlotGroups = 4

// renderHook, when set (tests), is called before each plot is rendered
// and can make it fail.
var renderHook func(name string) error

// fileSafe maps a workload or key to a file-name component.
func fileSafe(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// Plots renders the report's charts, each as SVG and PNG:
//
//   - per-resume-<workload>: stacked bars of instructions per resume by
//     region (in r.Breakdown order, others after), one bar per strategy;
//     all params groups of the workload when there are at most 4, else the
//     first;
//   - steps-<region>-<workload>, for each region whose steps the results
//     count: the same, by step (steps-<workload> for steps r.Breakdown
//     does not declare);
//   - sweep-<key>, for each key of r.Sweeps: instructions per resume
//     against the swept value, one line per strategy (per workload and
//     strategy when several workloads sweep the key), the other swept keys
//     fixed at the value of the first result that has them; log x axis
//     when the values span 100x or more;
//   - native-<workload>, when native results exist: mean ns per resume
//     per strategy with 95% CI error bars (groups as per-resume).
func Plots(r *Report) ([]File, error) {
	var files []File
	add := func(name string, p *plot.Plot, width vg.Length) error {
		for _, ext := range []string{"svg", "png"} {
			full := name + "." + ext
			if renderHook != nil {
				if err := renderHook(full); err != nil {
					return fmt.Errorf("report: plot %s: %w", full, err)
				}
			}
			wt, err := p.WriterTo(width, plotH, ext)
			if err != nil {
				return fmt.Errorf("report: plot %s: %w", full, err)
			}
			var buf bytes.Buffer
			if _, err := wt.WriteTo(&buf); err != nil {
				return fmt.Errorf("report: plot %s: %w", full, err)
			}
			files = append(files, File{Name: full, Data: buf.Bytes()})
		}
		return nil
	}

	// Tables by workload, in order.
	var workloads []string
	byWL := map[string][]*table{}
	for _, t := range tables(r) {
		if _, ok := byWL[t.Workload]; !ok {
			workloads = append(workloads, t.Workload)
		}
		byWL[t.Workload] = append(byWL[t.Workload], t)
	}
	for _, wl := range workloads {
		names, charts := breakdownCharts(r, wl, byWL[wl])
		for i, c := range charts {
			if p, n, err := breakdownPlot(wl, byWL[wl], c); err != nil {
				return nil, err
			} else if p != nil {
				if err := add(names[i], p, plotWidth(n)); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, key := range r.Sweeps {
		if p, err := sweepPlot(r, key); err != nil {
			return nil, err
		} else if p != nil {
			if err := add("sweep-"+fileSafe(key), p, plotW); err != nil {
				return nil, err
			}
		}
	}
	for _, wl := range workloads {
		if p, n, err := nativePlot(wl, byWL[wl]); err != nil {
			return nil, err
		} else if p != nil {
			if err := add("native-"+fileSafe(wl), p, plotWidth(n)); err != nil {
				return nil, err
			}
		}
	}
	return files, nil
}

// chartGroups picks the tables to chart: those passing keep, all of them
// when at most maxPlotGroups, else the first.
func chartGroups(ts []*table, keep func(*row) bool) []*table {
	var out []*table
	for _, t := range ts {
		for _, rw := range t.Rows {
			if keep(rw) {
				out = append(out, t)
				break
			}
		}
	}
	if len(out) > maxPlotGroups {
		out = out[:1]
	}
	return out
}

// varying keeps the params that differ between the tables.
func varying(ts []*table, p Params) Params {
	out := Params{}
	for k, v := range p {
		for _, t := range ts {
			if tv, ok := t.Params[k]; !ok || tv != v {
				out[k] = v
				break
			}
		}
	}
	return out
}

// fixedParams are the params all tables share.
func fixedParams(ts []*table) Params {
	out := Params{}
	for k, v := range ts[0].Params {
		if _, vary := varying(ts, ts[0].Params)[k]; !vary {
			out[k] = v
		}
	}
	return out
}

type category struct {
	label string
	row   *row
}

func categories(ts []*table, keep func(*row) bool) []category {
	var cats []category
	for _, t := range ts {
		for _, rw := range t.Rows {
			if !keep(rw) {
				continue
			}
			label := rw.Strategy
			if len(ts) > 1 {
				label += "\n" + strings.ReplaceAll(ParamsKey(varying(ts, t.Params)), ",", "\n")
			}
			cats = append(cats, category{label, rw})
		}
	}
	return cats
}

func newPlot(title, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.Padding = vg.Points(6)
	p.Y.Label.Text = ylabel
	p.Y.Tick.Marker = niceTicks{}
	p.Legend.Top = true
	p.Legend.Padding = vg.Points(2)
	p.Add(plotter.NewGrid())
	return p
}

// niceTicks puts 4–10 major ticks at multiples of 1, 2 or 5 × 10^k,
// labelled like the tables (thousands separators), with 4 minor ticks
// between majors.
type niceTicks struct{}

func (niceTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) {
		return []plot.Tick{{Value: min, Label: tickLabel(min, 1)}}
	}
	raw := (max - min) / 6
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []plot.Tick
	minor := step / 5
	for v := math.Ceil(min/minor) * minor; v <= max+minor*1e-9; v += minor {
		k := math.Round(v / minor)
		val := k * minor
		if int64(k)%5 == 0 {
			ticks = append(ticks, plot.Tick{Value: val, Label: tickLabel(val, step)})
		} else {
			ticks = append(ticks, plot.Tick{Value: val})
		}
	}
	return ticks
}

func tickLabel(v, step float64) string {
	if step >= 1 && v == math.Trunc(v) && math.Abs(v) < 1e15 {
		if v < 0 {
			return "-" + FormatInt(uint64(-v))
		}
		return FormatInt(uint64(v))
	}
	dec := int(math.Max(0, math.Ceil(-math.Log10(step))))
	return strconv.FormatFloat(v, 'f', dec, 64)
}

// nominal labels categories 0..n-1 on the x axis and pads the range so
// the outer bars are not clipped.
func nominal(p *plot.Plot, labels []string) {
	p.NominalX(labels...)
	p.X.Min = -0.5
	p.X.Max = float64(len(labels)) - 0.5
	if len(labels) > 4 {
		p.X.Tick.Label.Font.Size = vg.Points(9)
	}
}

// plotWidth widens charts with many categories.
func plotWidth(n int) vg.Length {
	if w := vg.Length(n) * vg.Inch; w > plotW {
		return w
	}
	return plotW
}

func barWidth(n int) vg.Length {
	w := vg.Points(360 / float64(n+1))
	if w > vg.Points(60) {
		w = vg.Points(60)
	}
	return w
}

// breakdownChart is a stacked bar chart of instructions per resume split
// by the keys of a breakdown (regions, or one region's steps).
type breakdownChart struct {
	what string // "by region", "by step of the patchpoint helper"
	keys []string
	m    func(*Instructions) map[string]uint64
}

// breakdownCharts are the charts of a workload's tables: by region (with
// the total as one bar when no result splits by region), then one chart
// per region whose steps the results count, with its file name.
func breakdownCharts(r *Report, wl string, ts []*table) (names []string, charts []breakdownChart) {
	regions, steps := presentKeys(ts)
	names = append(names, "per-resume-"+fileSafe(wl))
	charts = append(charts, breakdownChart{what: "by region", keys: regionKeys(r, regions), m: byRegion})
	for _, g := range stepGroups(r, steps) {
		name, what := "steps-"+fileSafe(wl), "by step"
		if g.Region.Name != "" {
			name = "steps-" + fileSafe(g.Region.Name) + "-" + fileSafe(wl)
			what = "by step of " + strings.Trim(partDoc(r.Breakdown, g.Region.Name), "`")
		}
		names = append(names, name)
		charts = append(charts, breakdownChart{what: what, keys: g.Keys, m: byStep})
	}
	return names, charts
}

func breakdownPlot(wl string, ts []*table, c breakdownChart) (*plot.Plot, int, error) {
	keep := func(rw *row) bool { return rw.Instr != nil }
	ts = chartGroups(ts, keep)
	if len(ts) == 0 {
		return nil, 0, nil
	}
	cats := categories(ts, keep)
	title := wl + ": instructions per resume " + c.what
	if len(ts) == 1 && len(ts[0].Params) > 0 {
		title += paramsLines(ts[0].Params)
	} else if common := fixedParams(ts); len(common) > 0 {
		title += paramsLines(common)
	}
	p := newPlot(title, "instructions / resume")
	keys := c.keys
	if len(keys) == 0 {
		// No breakdown: one bar of the total.
		keys = []string{"total"}
	}
	var below *plotter.BarChart
	var top float64
	heights := make([]float64, len(cats))
	w := barWidth(len(cats))
	for i, k := range keys {
		vals := make(plotter.Values, len(cats))
		for j, cat := range cats {
			in := cat.row.Instr.Instructions
			if len(c.keys) == 0 {
				vals[j] = in.PerResume
			} else if d := divisor(cat.row.Instr); d > 0 {
				vals[j] = float64(c.m(in)[k]) / d
			}
			heights[j] += vals[j]
			top = math.Max(top, heights[j])
		}
		bc, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, 0, fmt.Errorf("report: per-resume chart of %s: %w", wl, err)
		}
		bc.Color = plotutil.Color(i)
		bc.LineStyle.Width = vg.Length(0)
		if below != nil {
			bc.StackOn(below)
		}
		below = bc
		p.Add(bc)
		p.Legend.Add(k, bc)
	}
	labels := make([]string, len(cats))
	for i, cat := range cats {
		labels[i] = cat.label
	}
	nominal(p, labels)
	p.Y.Min = 0
	p.Y.Max = headroom(top, len(keys))
	return p, len(cats), nil
}

// headroom leaves space above the data for a legend of n entries.
func headroom(top float64, n int) float64 {
	if top <= 0 {
		return 1
	}
	return top * (1.15 + 0.07*float64(n))
}

func sweepPlot(r *Report, key string) (*plot.Plot, error) {
	// The other swept keys, fixed at their first value.
	fixed := Params{}
	for _, k := range r.Sweeps {
		if k == key {
			continue
		}
		for i := range r.Results {
			if v, ok := r.Results[i].Params[k]; ok && r.Results[i].Instructions != nil {
				fixed[k] = v
				break
			}
		}
	}
	// A named parameter (platform) is plotted by category, in the order
	// its values first appear.
	xOf, labels := sweepAxis(r, key)
	type line struct {
		workload, strategy string
		pts                map[int64]float64
	}
	var lines []*line
	idx := map[string]*line{}
	wls := map[string]bool{}
	for i := range r.Results {
		res := &r.Results[i]
		v, ok := res.Params[key]
		if !ok || res.Instructions == nil {
			continue
		}
		x := xOf(v)
		match := true
		for k, v := range fixed {
			if pv, ok := res.Params[k]; ok && pv != v {
				match = false
			}
		}
		if !match {
			continue
		}
		id := res.Workload + "\x00" + res.Strategy
		l := idx[id]
		if l == nil {
			l = &line{workload: res.Workload, strategy: res.Strategy, pts: map[int64]float64{}}
			idx[id] = l
			lines = append(lines, l)
		}
		wls[res.Workload] = true
		if _, dup := l.pts[x]; !dup {
			l.pts[x] = res.Instructions.PerResume
		}
	}
	if len(lines) == 0 {
		return nil, nil
	}
	title := "instructions per resume vs " + key
	if len(fixed) > 0 {
		title += paramsLines(fixed)
	}
	p := newPlot(title, "instructions / resume")
	p.X.Label.Text = key
	minX, maxX, top := math.Inf(1), math.Inf(-1), 0.0
	for i, l := range lines {
		xs := make([]int64, 0, len(l.pts))
		for x := range l.pts {
			xs = append(xs, x)
		}
		sort.Slice(xs, func(a, b int) bool { return xs[a] < xs[b] })
		xys := make(plotter.XYs, len(xs))
		for j, x := range xs {
			xys[j] = plotter.XY{X: float64(x), Y: l.pts[x]}
			minX, maxX = math.Min(minX, float64(x)), math.Max(maxX, float64(x))
			top = math.Max(top, l.pts[x])
		}
		ln, sc, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("report: sweep chart of %s: %w", key, err)
		}
		ln.Color = plotutil.Color(i)
		ln.Width = vg.Points(1.5)
		ln.Dashes = plotutil.Dashes(i)
		sc.Color = plotutil.Color(i)
		sc.Shape = plotutil.Shape(i)
		p.Add(ln, sc)
		label := l.strategy
		if len(wls) > 1 {
			label = l.workload + " / " + l.strategy
		}
		p.Legend.Add(label, ln, sc)
	}
	switch {
	case labels != nil:
		var ticks plot.ConstantTicks
		for i, l := range labels {
			ticks = append(ticks, plot.Tick{Value: float64(i), Label: l})
		}
		p.X.Tick.Marker = ticks
		p.X.Min, p.X.Max = -0.5, float64(len(labels))-0.5
	case minX > 0 && maxX/minX >= 100:
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	p.Y.Min = 0
	p.Y.Max = headroom(top, len(lines))
	return p, nil
}

// ciErrors are points with asymmetric Y errors.
type ciErrors struct {
	plotter.XYs
	plotter.YErrors
}

func nativePlot(wl string, ts []*table) (*plot.Plot, int, error) {
	keep := func(rw *row) bool { return rw.Native != nil }
	ts = chartGroups(ts, keep)
	if len(ts) == 0 {
		return nil, 0, nil
	}
	cats := categories(ts, keep)
	title := wl + ": native ns per resume (mean, 95% CI)"
	if len(ts) == 1 && len(ts[0].Params) > 0 {
		title += paramsLines(ts[0].Params)
	} else if common := fixedParams(ts); len(common) > 0 {
		title += paramsLines(common)
	}
	p := newPlot(title, "ns / resume")
	w := barWidth(len(cats))
	strat := map[string]int{}
	var eb ciErrors
	top := 0.0
	for i, c := range cats {
		s := nativeStats(c.row.Native.Native)
		ci, ok := strat[c.row.Strategy]
		if !ok {
			ci = len(strat)
			strat[c.row.Strategy] = ci
		}
		bc, err := plotter.NewBarChart(plotter.Values{s.Mean}, w)
		if err != nil {
			return nil, 0, fmt.Errorf("report: native chart of %s: %w", wl, err)
		}
		bc.XMin = float64(i)
		bc.Color = plotutil.Color(ci)
		bc.LineStyle.Width = vg.Length(0)
		p.Add(bc)
		lo, hi := 0.0, 0.0
		if s.N >= 2 {
			lo, hi = s.Mean-s.CI95[0], s.CI95[1]-s.Mean
		}
		eb.XYs = append(eb.XYs, plotter.XY{X: float64(i), Y: s.Mean})
		eb.YErrors = append(eb.YErrors, struct{ Low, High float64 }{lo, hi})
		top = math.Max(top, s.Mean+hi)
	}
	bars, err := plotter.NewYErrorBars(eb)
	if err != nil {
		return nil, 0, fmt.Errorf("report: native chart of %s: %w", wl, err)
	}
	bars.Color = color.Black
	bars.Width = vg.Points(1.2)
	p.Add(bars)
	labels := make([]string, len(cats))
	for i, c := range cats {
		labels[i] = c.label
	}
	nominal(p, labels)
	p.Y.Min = 0
	p.Y.Max = headroom(top, 0)
	return p, len(cats), nil
}

// paramsLines renders parameters for a chart title, wrapped so that no line
// is wider than the chart (long parameter lists were clipped).
func paramsLines(p Params) string {
	const width = 90 // characters that fit the default chart width
	var b strings.Builder
	line := 0
	for i, kv := range strings.Split(ParamsKey(p), ",") {
		switch {
		case i == 0:
			b.WriteString("\n")
		case line+2+len(kv) > width:
			b.WriteString(",\n")
			line = 0
		default:
			b.WriteString(", ")
			line += 2
		}
		b.WriteString(kv)
		line += len(kv)
	}
	return b.String()
}

// sweepAxis maps a swept parameter's values to x positions: integers to
// themselves; names, when the sweep has any, to their index in order of
// first appearance, with those names as the axis labels.
func sweepAxis(r *Report, key string) (func(Value) int64, []string) {
	var labels []string
	index := map[Value]int64{}
	for i := range r.Results {
		if v, ok := r.Results[i].Params[key]; ok && v.IsName() {
			if _, seen := index[v]; !seen {
				index[v] = int64(len(labels))
				labels = append(labels, v.String())
			}
		}
	}
	if labels == nil {
		return func(v Value) int64 { n, _ := v.Int(); return n }, nil
	}
	return func(v Value) int64 { return index[v] }, labels
}
