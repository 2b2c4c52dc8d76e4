package report

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// Params read back from JSON as written: integers as numbers, names as
// strings; anything else is an error naming what is wanted.
func TestValueJSON(t *testing.T) {
	p := Params{"awaits": Int(10000), "platform": Name("linux-x64"), "n": Int(-3)}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"awaits":10000,"n":-3,"platform":"linux-x64"}`; string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
	var back Params
	if err := json.Unmarshal(b, &back); err != nil || len(back) != len(p) {
		t.Fatalf("read back %v (%v)", back, err)
	}
	for k, v := range p {
		if back[k] != v {
			t.Errorf("%s read back as %v, want %v", k, back[k], v)
		}
	}
	for in, want := range map[string]string{`""`: "empty name", `1.5`: "want an integer or a name", `[1]`: "want an integer or a name"} {
		var v Value
		if err := json.Unmarshal([]byte(in), &v); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", in, err, want)
		}
	}
}

// Integers sort by value before names; names sort by text.
func TestValueLess(t *testing.T) {
	vs := []Value{Name("windows-x64"), Int(10), Name("linux-x64"), Int(-1), Int(2)}
	slices.SortFunc(vs, func(a, b Value) int {
		switch {
		case a.Less(b):
			return -1
		case b.Less(a):
			return 1
		}
		return 0
	})
	var got []string
	for _, v := range vs {
		got = append(got, v.String())
	}
	if want := []string{"-1", "2", "10", "linux-x64", "windows-x64"}; !slices.Equal(got, want) {
		t.Errorf("sorted %v, want %v", got, want)
	}
	if n, ok := Name("x").Int(); ok || n != 0 {
		t.Errorf("a name's Int is %d, %v", n, ok)
	}
}
