package experiments

import (
	"errors"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/workload"
)

// sample is a value for a key and the verdict its type implies (nil when
// the type alone does not say).
type sample struct {
	text string
	ok   *bool
}

var yes, no = true, false

// samples are in-range, edge and out-of-range values of a type.
func samples(t Type) []sample {
	switch t.Kind {
	case Int:
		r := t.Range
		s := []sample{{fmtInt(r.Min), &yes}, {fmtInt(r.Max), &yes}, {fmtInt(r.Min + (r.Max-r.Min)/2), &yes},
			{"many", &no}, {"99999999999999999999", &no}}
		if r.Min > math.MinInt64 {
			s = append(s, sample{fmtInt(r.Min - 1), &no})
		}
		if r.Max < math.MaxInt64 {
			s = append(s, sample{fmtInt(r.Max + 1), &no})
		}
		return s
	case Duration:
		return []sample{{"1ns", &yes}, {"90s", &yes}, {"1h30m", &yes}, {"0s", &no}, {"-1s", &no}, {"soon", &no}, {"", &no}}
	case Enum:
		s := []sample{{"bogus", &no}, {"", &no}}
		for _, n := range t.Names {
			s = append(s, sample{n, &yes})
		}
		return s
	}
	return []sample{{"x", nil}, {"", nil}, {"skylake", nil}}
}

func fmtInt(v int64) string { return strconv.FormatInt(v, 10) }

// yamlValue writes a sample as a config line would: integers plain,
// everything else as a quoted string.
func yamlValue(k *Key, s string) string {
	if k.Type.Kind == Int {
		return s
	}
	return strconv.Quote(s)
}

// nest writes a dotted key as nested YAML mappings at indent.
func nest(dotted, value string, indent int) string {
	var b strings.Builder
	parts := strings.Split(dotted, ".")
	for i, p := range parts {
		b.WriteString(strings.Repeat("  ", indent+i) + p + ":")
		if i == len(parts)-1 {
			b.WriteString(" " + value)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestFileAndSetAgree sends every key --set accepts through both paths, a
// line in a config and --set on the same config without it, with
// in-range, edge and out-of-range values: both accept with the same
// result, or both reject at the key.
func TestFileAndSetAgree(t *testing.T) {
	checked := 0
	for _, k := range Keys() {
		if k.FileOnly {
			continue
		}
		kinds := k.Kinds
		if k.Scope != Param {
			kinds = workload.Kinds
		}
		for _, kind := range kinds {
			base := "name: t\nworkloads:\n  " + kind + ":\n"
			type path struct{ setKey, file string }
			var paths []path
			for _, s := range samples(k.Type) {
				v := yamlValue(&k, s.text)
				switch k.Scope {
				case Param:
					paths = []path{{k.Name, base + nest(k.Name, v, 2)}, {"emulation." + k.Name, base + nest("emulation."+k.Name, v, 2)}}
				default:
					paths = []path{{k.Name, base + "    {}\n" + nest(k.Name, v, 0)}}
				}
				for _, p := range paths {
					fromFile, fileErr := Parse("t.yaml", []byte(p.file))
					set, err := Parse("t.yaml", []byte("name: t\nworkloads:\n  "+kind+": {}\n"))
					if err != nil {
						t.Fatal(err)
					}
					setErr := set.Set(p.setKey, s.text)
					desc := p.setKey + "=" + strconv.Quote(s.text) + " (" + kind + ")"
					if (fileErr == nil) != (setErr == nil) {
						t.Errorf("%s: file %v, --set %v", desc, fileErr, setErr)
						continue
					}
					if s.ok != nil && *s.ok != (setErr == nil) {
						t.Errorf("%s: accepted %v, want %v (%v)", desc, setErr == nil, *s.ok, setErr)
					}
					checked++
					if setErr == nil {
						if !reflect.DeepEqual(fromFile, set) {
							t.Errorf("%s: file gives\n%+v\n--set gives\n%+v", desc, fromFile, set)
						}
						continue
					}
					var fe, se *Error
					if !errors.As(fileErr, &fe) || !errors.As(setErr, &se) || se.Key != p.setKey ||
						!strings.HasSuffix(fe.Key, strings.TrimPrefix(p.setKey, "emulation.")) || fe.Line == 0 {
						t.Errorf("%s: file error %#v, --set error %#v", desc, fe, se)
					}
				}
			}
		}
	}
	if checked < 200 {
		t.Errorf("only %d cases", checked)
	}
}

// The example: the caps agreed on neither side before.
func TestSetNativeLaunchesCap(t *testing.T) {
	e := Default()
	err := e.Set("native.launches", "5000")
	_, fileErr := Parse("l.yaml", []byte(good+"native:\n  launches: 5000\n"))
	if err == nil || fileErr == nil || err.Error() != "--set: native.launches: must be at most 1024, got 5000" ||
		!strings.HasSuffix(fileErr.Error(), "native.launches: must be at most 1024, got 5000") {
		t.Errorf("--set: %v; file: %v", err, fileErr)
	}
}

func TestFileOnlyKeysRefusedBySet(t *testing.T) {
	for _, k := range Keys() {
		if !k.FileOnly {
			continue
		}
		e := Default()
		if err := e.Set(k.Name, "x"); err == nil || !strings.Contains(err.Error(), "set in the config only") {
			t.Errorf("Set(%s) = %v", k.Name, err)
		}
	}
}

// Every key has a name, a type and a line of documentation; run keys a
// setter, parameters a field; names are unique.
func TestKeyTable(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Keys() {
		if seen[k.Name] || k.Name == "" || k.Doc == "" || k.Type.String() == "" {
			t.Errorf("%+v", k)
		}
		seen[k.Name] = true
		if (k.Scope == Run) != (k.run != nil && k.show != nil) || (k.Scope == Run) == (k.param != nil && k.showParam != nil) ||
			(k.Scope != Run && k.Type.Kind == Int) != (k.field != nil) {
			t.Errorf("%s: setters do not match scope %d", k.Name, k.Scope)
		}
		if k.Scope == Param && len(k.Kinds) == 0 {
			t.Errorf("%s: no workload", k.Name)
		}
	}
	// A parameter two workloads share has one definition.
	for _, k := range Keys() {
		for _, kind := range k.Kinds {
			for _, q := range workload.ParamsOf(kind) {
				if q.Name == k.Name && q.Range != k.Type.Range {
					t.Errorf("%s: range %v in %s, %v in the key", k.Name, q.Range, kind, k.Type.Range)
				}
			}
		}
	}
}

// README.md's key reference is what go generate writes.
func TestReferenceUpToDate(t *testing.T) {
	doc, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReplaceReference(string(doc))
	if err != nil {
		t.Fatal(err)
	}
	if want != string(doc) {
		t.Error("README.md's key reference is stale: run go generate ./experiments")
	}
	for _, k := range Keys() {
		if !strings.Contains(want, "| `"+k.Name+"` |") {
			t.Errorf("%s missing from the reference", k.Name)
		}
	}
}

// A workload.ParamError is reported at the key that set the parameter, with
// the message alone; a parameter no key set is reported at the workload
// with its name.
func TestValidateReportsAtTheKey(t *testing.T) {
	p := &parser{file: "v.yaml"}
	srcs := map[string]src{"live_locals": {"workloads.await-loop.live_locals", 7}}
	at := src{"workloads.await-loop", 3}
	w := workload.DefaultParams(workload.AwaitLoop)
	w.LiveLocals = 65
	p.validate(w, srcs, at)
	w = workload.DefaultParams(workload.AwaitLoop)
	w.Awaits = -1
	p.validate(w, srcs, at)
	p.validate(workload.DefaultParams(workload.Reentry), srcs, at)
	want := []string{
		"v.yaml:7: workloads.await-loop.live_locals: must be at most 64, got 65",
		"v.yaml:3: workloads.await-loop: awaits: must not be negative, got -1",
	}
	if len(p.errs) != len(want) {
		t.Fatalf("errors %v", p.errs)
	}
	for i, e := range p.errs {
		if e.Error() != want[i] {
			t.Errorf("%q, want %q", e, want[i])
		}
	}
}
