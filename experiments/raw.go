package experiments

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// raw is one value as written: a YAML node of a config file or the text
// of --set key=value. Keys read their values only through it, so a file
// and the command line accept the same values with the same verdicts; they
// differ only in what YAML's types add (a quoted "100" is not an integer).
type raw interface {
	// integer reads an integer (YAML: an !!int scalar; --set: Go syntax
	// such as 1000, 1_000 or 0x3e8).
	integer() (int64, error)
	// str reads a string; want describes the value expected, for the
	// error when the value is not a string.
	str(want string) (string, error)
	// list reads a non-empty list; what and one name its items ("strategies",
	// "strategy").
	list(what, one string) ([]raw, error)
	// line is the value's line in the file, 0 on the command line.
	line() int
}

// aString is what str's callers want when any string will do.
const aString = "a string"

// itemError is an error at an item of a list, on the item's own line.
type itemError struct {
	line int
	err  error
}

func (e *itemError) Error() string { return e.err.Error() }
func (e *itemError) Unwrap() error { return e.err }

// node is a value of a config file.
type node struct{ n *yaml.Node }

func (v node) integer() (int64, error) {
	n := v.n
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		var i int64
		if err := n.Decode(&i); err == nil {
			return i, nil
		}
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" && strings.Trim(n.Value, "+-0123456789_") == "" {
		return 0, fmt.Errorf("integer %s out of range", n.Value)
	}
	return 0, fmt.Errorf("want an integer, got %s", describe(n))
}

func (v node) str(want string) (string, error) {
	n := v.n
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		return n.Value, nil
	}
	hint := ""
	if want == aString && n.Kind == yaml.ScalarNode && !isNull(n) {
		hint = " (quote it)"
	}
	return "", fmt.Errorf("want %s, got %s%s", want, describe(n), hint)
}

func (v node) list(what, one string) ([]raw, error) {
	n := v.n
	if n.Kind != yaml.SequenceNode {
		if isNull(n) {
			return nil, fmt.Errorf("want a non-empty list of %s", what)
		}
		return nil, fmt.Errorf("want a list of %s such as [a, b], got %s", what, describe(n))
	}
	if len(n.Content) == 0 {
		return nil, fmt.Errorf("empty list (want at least one %s)", one)
	}
	items := make([]raw, len(n.Content))
	for i, c := range n.Content {
		items[i] = node{deref(c)}
	}
	return items, nil
}

func (v node) line() int { return v.n.Line }

// text is a value given on the command line.
type text string

func (t text) integer() (int64, error) {
	v, err := strconv.ParseInt(string(t), 0, 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("integer %s out of range", string(t))
	}
	if err != nil {
		return 0, fmt.Errorf("want an integer, got %q", string(t))
	}
	return v, nil
}

func (t text) str(string) (string, error) { return string(t), nil }

// list: list-valued keys are FileOnly, so --set never asks.
func (t text) list(what, _ string) ([]raw, error) {
	return nil, fmt.Errorf("want a list of %s; lists are set in the config", what)
}

func (t text) line() int { return 0 }

// deref follows aliases.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names a node's type for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing (null)"
		case "!!str":
			return fmt.Sprintf("string %q", n.Value)
		case "!!int":
			return "integer " + n.Value
		case "!!float":
			return "number " + n.Value
		case "!!bool":
			return "boolean " + n.Value
		}
		return fmt.Sprintf("%s %q", strings.TrimPrefix(n.ShortTag(), "!!"), n.Value)
	}
	return "an unexpected node"
}
