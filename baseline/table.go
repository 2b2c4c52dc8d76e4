package baseline

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/osrsim/osrsim/internal/texttable"
	"github.com/osrsim/osrsim/report"
)

// groups are the sections of the tables, in order; Unchanged only when a
// view lists every row.
var groups = []struct {
	title string
	kinds []Kind
}{
	{"Slower", []Kind{Slower}},
	{"Faster", []Kind{Faster}},
	{"Changed", []Kind{Changed}},
	{"New/Missing", []Kind{Missing, New}},
	{"Unchanged", []Kind{Unchanged}},
}

// view is how a verdict is shown: as check's gate (rows that fail say so,
// the summary ends in the verdict) or as an A/B comparison (osrsim
// compare: every difference, none failing).
type view struct {
	title string
	gate  bool
	all   bool // list unchanged rows too
}

var (
	gateView = view{title: "osrsim check", gate: true}
	abView   = view{title: "osrsim compare"}
)

// Summary is the one-line summary: "N unchanged, M faster, K slower" (plus
// changed, new and missing when there are any, and how many slower rows
// fail), followed by the verdict.
func (v *Verdict) Summary() string { return v.summary(gateView) }

func (v *Verdict) summary(vw view) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d unchanged, %d faster, %d slower", v.Count(Unchanged), v.Count(Faster), v.Count(Slower))
	if n := v.Count(Changed); n > 0 {
		fmt.Fprintf(&b, ", %d changed", n)
	}
	if n := v.Count(New); n > 0 {
		fmt.Fprintf(&b, ", %d new", n)
	}
	if n := v.Count(Missing); n > 0 {
		fmt.Fprintf(&b, ", %d missing", n)
	}
	fails := 0
	for _, r := range v.Rows {
		if r.Fails {
			fails++
		}
	}
	switch {
	case !vw.gate && (v.Status == OK || v.Status == Regressed):
	case v.Status == OK:
		b.WriteString(": ok")
	case v.Status == Regressed:
		fmt.Fprintf(&b, ": REGRESSION (%d failing)", fails)
	case v.Status == UnicornMismatch:
		b.WriteString(": NOT CHECKED: " + v.Message)
	case v.Status == BadInput:
		b.WriteString(": BAD INPUT: " + v.Message)
	}
	return b.String()
}

// header describes what was compared.
func (v *Verdict) header(vw view) string {
	side := func(s Side) string {
		return fmt.Sprintf("%s (osrsim %s, libunicorn %s)", orUnknown(s.Experiment), orUnknown(s.Env.Osrsim), orUnknown(s.Env.Unicorn))
	}
	var h string
	if vw.gate {
		h = fmt.Sprintf("baseline: %s\ncurrent:  %s\ncounts: exact, tolerance %s; native: %s",
			side(v.Base), side(v.Cur), pct(v.Options.Tolerance), v.Options.Native)
	} else {
		h = fmt.Sprintf("old: %s\nnew: %s\ncounts: exact; native: median ns_per_resume, Mann–Whitney U test",
			side(v.Base), side(v.Cur))
	}
	if v.Options.Native != NativeOff {
		h += fmt.Sprintf(" (threshold %s, alpha %g)", pct(v.Options.NativeThreshold), v.Options.Alpha)
	}
	return h
}

// labeller returns a function that labels cells with workload/strategy,
// engine and only the parameters that differ between the listed cells,
// so that sweep coordinates show and constant parameters don't.
func (v *Verdict) labeller() func(Cell) string {
	vals := map[string]map[report.Value]bool{}
	present := map[string]int{}
	for _, r := range v.Rows {
		for k, x := range r.Cell.Params {
			if vals[k] == nil {
				vals[k] = map[report.Value]bool{}
			}
			vals[k][x] = true
		}
	}
	cells := map[string]bool{}
	for _, r := range v.Rows {
		if id := r.Cell.id(); !cells[id] {
			cells[id] = true
			for k := range r.Cell.Params {
				present[k]++
			}
		}
	}
	var varying []string
	for k, xs := range vals {
		if len(xs) > 1 || present[k] < len(cells) {
			varying = append(varying, k)
		}
	}
	sort.Strings(varying)
	return func(c Cell) string {
		s := c.Workload + "/" + c.Strategy + " " + c.Engine.String()
		var ps []string
		for _, k := range varying {
			if x, ok := c.Params[k]; ok {
				ps = append(ps, k+"="+x.String())
			}
		}
		if len(ps) > 0 {
			s += " " + strings.Join(ps, ",")
		}
		return s
	}
}

// num formats a value: integers without decimals, others with 4.
func num(x float64) string {
	if isInt(x) {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strconv.FormatFloat(x, 'f', 4, 64)
}

func signed(x float64) string {
	s := num(x)
	if x > 0 {
		s = "+" + s
	}
	return s
}

// cells returns the old, new, delta and delta% columns of a row.
func (r Row) cells() (old, new, delta, dpct string) {
	switch {
	case r.Kind == New:
		return "-", "present", "", ""
	case r.Kind == Missing:
		return "present", "-", "", ""
	case r.OldText != "" || r.NewText != "":
		if r.Metric == "final_state.ret" {
			return r.OldText, r.NewText, signed(r.Delta), dpctOf(r)
		}
		return r.OldText, r.NewText, "", ""
	}
	if isInt(r.Old) && isInt(r.New) {
		return num(r.Old), num(r.New), signed(r.Delta), dpctOf(r)
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }
	d := f(r.Delta)
	if r.Delta > 0 {
		d = "+" + d
	}
	return f(r.Old), f(r.New), d, dpctOf(r)
}

// num2 formats a time with two decimals.
func num2(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }

func isInt(x float64) bool { return x == math.Trunc(x) && math.Abs(x) < 1e15 }

func dpctOf(r Row) string {
	switch {
	case r.Delta == 0:
		return "0%"
	case r.Old == 0:
		return "new" // from zero: no percentage
	}
	d := 2
	if a := math.Abs(r.DeltaPct); a < 0.01 {
		d = min(8, 1-int(math.Floor(math.Log10(a)))) // two significant digits
	}
	return fmt.Sprintf("%+.*f%%", d, r.DeltaPct)
}

func (r Row) note(vw view) string {
	n := r.Note
	if !vw.gate {
		switch r.Kind {
		case New:
			n = "only in new"
		case Missing:
			n = "only in old"
		}
	}
	add := func(s string) {
		if n != "" {
			n += ", "
		}
		n += s
	}
	if r.P != nil && !strings.Contains(n, "p=") {
		add(fmt.Sprintf("p=%.3f", *r.P))
	}
	if r.OldCI != nil && r.NewCI != nil {
		add(fmt.Sprintf("CI95 of the mean [%s, %s] → [%s, %s]", num2(r.OldCI[0]), num2(r.OldCI[1]), num2(r.NewCI[0]), num2(r.NewCI[1])))
	}
	if r.Fails && vw.gate {
		if n != "" {
			return "FAIL: " + n
		}
		return "FAIL"
	}
	return n
}

// Table renders the verdict as plain text: a header naming both reports
// and the options, then the rows grouped under Slower, Faster, Changed and
// New/Missing (empty groups left out; unchanged rows are only counted),
// the warnings, and the summary line.
func (v *Verdict) Table() string { return v.table(gateView) }

// DiffTable renders the verdict as an A/B comparison (osrsim compare):
// as Table, but the two reports are old and new, no row fails, and the
// summary has no verdict. With all, unchanged rows are listed too.
func (v *Verdict) DiffTable(all bool) string { return v.table(view{abView.title, false, all}) }

func (v *Verdict) table(vw view) string {
	var b strings.Builder
	b.WriteString(v.header(vw))
	b.WriteString("\n")
	if v.Status == UnicornMismatch || v.Status == BadInput {
		fmt.Fprintf(&b, "\n%s\n", v.Message)
	}
	label := v.labeller()
	for _, g := range v.grouped(vw) {
		title, rows := g.title, g.rows
		fmt.Fprintf(&b, "\n%s (%d):\n", title, len(rows))
		lines := [][]string{{"cell", "metric", "old", "new", "delta", "delta%", ""}}
		for _, r := range rows {
			o, n, d, p := r.cells()
			lines = append(lines, []string{label(r.Cell), r.Metric, o, n, d, p, r.note(vw)})
		}
		texttable.Write(&b, "  ", lines, "llrrrrl")
	}
	if len(v.Warnings) > 0 {
		fmt.Fprintf(&b, "\nWarnings (%d):\n", len(v.Warnings))
		for _, w := range v.Warnings {
			fmt.Fprintf(&b, "  - %s\n", w)
		}
	}
	fmt.Fprintf(&b, "\n%s\n", v.summary(vw))
	return b.String()
}

// grouped returns the non-empty row groups in display order.
func (v *Verdict) grouped(vw view) []rowGroup {
	var out []rowGroup
	for _, g := range groups {
		if slices.Contains(g.kinds, Unchanged) && !vw.all {
			continue
		}
		var rows []Row
		for _, r := range v.Rows {
			if slices.Contains(g.kinds, r.Kind) {
				rows = append(rows, r)
			}
		}
		if len(rows) > 0 {
			out = append(out, rowGroup{g.title, rows})
		}
	}
	return out
}

type rowGroup struct {
	title string
	rows  []Row
}

// Markdown renders the verdict as GitHub-flavoured Markdown (for a job
// summary or a PR comment): the same groups as Table, one table each.
func (v *Verdict) Markdown() string { return v.markdown(gateView) }

// DiffMarkdown is DiffTable as Markdown.
func (v *Verdict) DiffMarkdown(all bool) string { return v.markdown(view{abView.title, false, all}) }

func (v *Verdict) markdown(vw view) string {
	var b strings.Builder
	b.WriteString("### " + vw.title + "\n\n")
	for _, l := range strings.Split(v.header(vw), "\n") {
		fmt.Fprintf(&b, "- %s\n", mdEscape(l))
	}
	if v.Status == UnicornMismatch || v.Status == BadInput {
		fmt.Fprintf(&b, "\n**%s**\n", mdEscape(v.Message))
	}
	label := v.labeller()
	for _, g := range v.grouped(vw) {
		title, rows := g.title, g.rows
		fmt.Fprintf(&b, "\n#### %s (%d)\n\n| Cell | Metric | Old | New | Delta | Delta %% | Note |\n|:---|:---|---:|---:|---:|---:|:---|\n", title, len(rows))
		for _, r := range rows {
			o, n, d, p := r.cells()
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n",
				mdEscape(label(r.Cell)), mdEscape(r.Metric), mdEscape(o), mdEscape(n), d, p, mdEscape(r.note(vw)))
		}
	}
	if len(v.Warnings) > 0 {
		b.WriteString("\n#### Warnings\n\n")
		for _, w := range v.Warnings {
			fmt.Fprintf(&b, "- %s\n", mdEscape(w))
		}
	}
	fmt.Fprintf(&b, "\n**%s**\n", mdEscape(v.summary(vw)))
	return b.String()
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
