package sim

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The names are the contract of configs, --engine and report.json.
func TestEngineNames(t *testing.T) {
	for _, tc := range []struct {
		e    Engine
		name string
	}{{Emu, "emu"}, {Native, "native"}} {
		if tc.e.String() != tc.name {
			t.Errorf("%d: %q, want %q", tc.e, tc.e, tc.name)
		}
		if got, err := ParseEngine(tc.name); got != tc.e || err != nil {
			t.Errorf("ParseEngine(%q) = %v, %v", tc.name, got, err)
		}
		b, err := json.Marshal(struct{ E Engine }{tc.e})
		if want := `{"E":"` + tc.name + `"}`; err != nil || string(b) != want {
			t.Errorf("json %s, %v; want %s", b, err, want)
		}
		var back struct{ E Engine }
		if err := json.Unmarshal(b, &back); err != nil || back.E != tc.e {
			t.Errorf("json round trip: %v, %v", back.E, err)
		}
	}
	if all, err := ParseEngines("both"); err != nil || !reflect.DeepEqual(all, Engines) {
		t.Errorf("ParseEngines(both) = %v, %v", all, err)
	}
	if one, err := ParseEngines("native"); err != nil || !reflect.DeepEqual(one, []Engine{Native}) {
		t.Errorf("ParseEngines(native) = %v, %v", one, err)
	}
	for _, bad := range []string{"", "gpu", "Emu", "both "} {
		if _, err := ParseEngines(bad); err == nil {
			t.Errorf("ParseEngines(%q) accepted", bad)
		}
	}
	if _, err := json.Marshal(Engine(0)); err == nil {
		t.Error("the zero Engine marshals")
	}
	var e Engine
	if err := json.Unmarshal([]byte(`"gpu"`), &e); err == nil {
		t.Error("unknown engine unmarshals")
	}
}
