package region

import (
	"strings"
	"testing"
)

func TestCatalogue(t *testing.T) {
	var c Catalogue
	a := Step{Region: Helper, Name: "a", Doc: "first"}
	b := Step{Region: Runtime, Name: "b", Doc: "second"}
	if err := c.Add(a, b, a); err != nil || len(c) != 2 || c[0] != a || c[1] != b {
		t.Fatalf("Add: %v, %v", err, c)
	}
	for _, tc := range []struct {
		step Step
		err  string
	}{
		{Step{Region: Helper, Name: "a", Doc: "other"}, "declared twice"},
		{Step{Region: "jit", Name: "c"}, `unknown region "jit"`},
		{Step{Region: Helper}, "without a name"},
	} {
		if err := c.Add(tc.step); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Add(%+v) = %v, want %q", tc.step, err, tc.err)
		}
	}
	for _, tc := range []struct {
		m   Meta
		err string
	}{
		{Meta{}, ""},
		{Meta{Region: Tier0}, ""},
		{Meta{Region: Helper, Step: "a"}, ""},
		{Meta{Region: Runtime, Step: "a"}, `belongs to region "helper", not "runtime"`},
		{Meta{Region: Helper, Step: "z"}, `step "z" is not declared`},
		{Meta{Region: "jit"}, `unknown region "jit"`},
	} {
		err := c.Check(tc.m)
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Check(%+v) = %v, want %q", tc.m, err, tc.err)
		}
	}
}

func TestManaged(t *testing.T) {
	for r, want := range map[Region]bool{Tier0: true, OSR: true, Runtime: true, Helper: false, Host: false, None: false} {
		if r.Managed() != want {
			t.Errorf("%q.Managed() = %v", r, !want)
		}
	}
}
