package report

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Value is a parameter's value in a result: an integer (n, awaits,
// patchpoint.hit_limit) or the name of an enumerated setting (platform,
// runtime.model). JSON writes an integer as a number and a name as a
// string, so reports and baselines written before names existed read
// back unchanged.
type Value struct {
	n    int64
	name string // non-empty for a name
}

// Params are a result's parameters by key.
type Params map[string]Value

// Int is an integer value.
func Int(n int64) Value { return Value{n: n} }

// Name is a named value; name must not be empty.
func Name(name string) Value {
	if name == "" {
		panic("BUG: report.Name of an empty name")
	}
	return Value{name: name}
}

// IsName reports whether v is a name.
func (v Value) IsName() bool { return v.name != "" }

// Int returns v's integer, and false for a name.
func (v Value) Int() (int64, bool) { return v.n, v.name == "" }

// String is the value as configs and reports write it.
func (v Value) String() string {
	if v.name != "" {
		return v.name
	}
	return strconv.FormatInt(v.n, 10)
}

// Less orders integers by value, before names, and names by text.
func (v Value) Less(w Value) bool {
	switch {
	case v.IsName() != w.IsName():
		return !v.IsName()
	case v.IsName():
		return v.name < w.name
	}
	return v.n < w.n
}

// MarshalJSON writes a number or a string.
func (v Value) MarshalJSON() ([]byte, error) {
	if v.name != "" {
		return json.Marshal(v.name)
	}
	return strconv.AppendInt(nil, v.n, 10), nil
}

// UnmarshalJSON reads a number (an integer) or a non-empty string.
func (v *Value) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if s == "" {
			return fmt.Errorf("parameter value: an empty name")
		}
		*v = Name(s)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("parameter value %s: want an integer or a name", b)
	}
	*v = Int(n)
	return nil
}
