package experiments

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/osrsim/osrsim/internal/bounds"
	"github.com/osrsim/osrsim/internal/enum"
)

// ValueKind is the kind of value a key holds.
type ValueKind uint8

const (
	Int      ValueKind = iota // a YAML integer, within Type.Range
	Duration                  // a Go duration string, positive
	String                    // a YAML string
	Enum                      // one of Type.Names
	List                      // a non-empty list of distinct Type.Names
)

// Type is what a key accepts.
type Type struct {
	Kind   ValueKind
	Range  bounds.Range // Int
	Names  []string     // Enum, List
	Syntax string       // String: what the string must look like
}

// String describes the accepted values for the reference.
func (t Type) String() string {
	switch t.Kind {
	case Int:
		return "integer, " + t.Range.String()
	case Duration:
		return "Go duration > 0 (90s, 10m)"
	case Enum:
		return "one of " + strings.Join(t.Names, ", ")
	case List:
		return "list of " + strings.Join(t.Names, ", ")
	}
	return t.Syntax
}

// value is how a key reads, checks, sets and shows a field of its target
// T (the Experiment, or a workload's Params). The constructors below make
// one from the field; set assigns only after every check has passed.
type value[T any] struct {
	typ  Type
	set  func(*T, raw) error
	show func(*T) string
}

func intValue[T any, V ~int | ~uint64](r bounds.Range, field func(*T) *V) value[T] {
	return value[T]{Type{Kind: Int, Range: r},
		func(t *T, v raw) error {
			n, err := v.integer()
			if err == nil {
				err = r.Check(n)
			}
			if err != nil {
				return err
			}
			*field(t) = V(n)
			return nil
		},
		func(t *T) string { return fmt.Sprint(*field(t)) }}
}

func durationValue[T any](field func(*T) *time.Duration) value[T] {
	const want = "a Go duration such as 90s or 10m"
	return value[T]{Type{Kind: Duration},
		func(t *T, v raw) error {
			s, err := v.str(want)
			if err != nil {
				return err
			}
			d, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("want %s, got %q", want, s)
			}
			if d <= 0 {
				return fmt.Errorf("must be positive, got %s", s)
			}
			*field(t) = d
			return nil
		},
		func(t *T) string { return formatDuration(*field(t)) }}
}

// formatDuration writes d as a config would: 10m, not 10m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// stringValue: syntax describes the accepted strings; check (if any)
// rejects the others.
func stringValue[T any](syntax string, check func(string) error, field func(*T) *string) value[T] {
	return value[T]{Type{Kind: String, Syntax: syntax},
		func(t *T, v raw) error {
			s, err := v.str(aString)
			if err == nil && check != nil {
				err = check(s)
			}
			if err != nil {
				return err
			}
			*field(t) = s
			return nil
		},
		func(t *T) string { return *field(t) }}
}

func enumValue[T any, V fmt.Stringer](all []V, parse func(string) (V, error), field func(*T) *V) value[T] {
	return value[T]{Type{Kind: Enum, Names: enum.Names(all)},
		func(t *T, v raw) error {
			s, err := v.str(aString)
			if err != nil {
				return err
			}
			x, err := parse(s)
			if err != nil {
				return err
			}
			*field(t) = x
			return nil
		},
		func(t *T) string { return (*field(t)).String() }}
}

// listValue: what and one name the items in messages ("strategies",
// "strategy").
func listValue[T any, V interface {
	comparable
	fmt.Stringer
}](what, one string, all []V, parse func(string) (V, error), field func(*T) *[]V) value[T] {
	return value[T]{Type{Kind: List, Names: enum.Names(all)},
		func(t *T, v raw) error {
			items, err := v.list(what, one)
			if err != nil {
				return err
			}
			var xs []V
			for _, it := range items {
				s, err := it.str(aString)
				if err != nil {
					return &itemError{it.line(), err}
				}
				x, err := parse(s)
				if err != nil {
					return &itemError{it.line(), err}
				}
				if slices.Contains(xs, x) {
					return &itemError{it.line(), fmt.Errorf("duplicate %s %s", one, s)}
				}
				xs = append(xs, x)
			}
			*field(t) = xs
			return nil
		},
		func(t *T) string { return "[" + strings.Join(enum.Names(*field(t)), ", ") + "]" }}
}
