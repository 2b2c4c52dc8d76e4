package experiments

import (
	"fmt"
	"strings"
)

//go:generate go run ./internal/genreference

// Markers around the generated key reference in README.md.
const (
	referenceBegin = "<!-- BEGIN KEYS: generated from keys.go by `go generate ./experiments`; do not edit -->\n"
	referenceEnd   = "<!-- END KEYS -->\n"
)

// Reference is the key reference of README.md, generated from the table:
// one Markdown table of the run keys and one of the workload parameters.
func Reference() string {
	var b strings.Builder
	b.WriteString("| key | value | default | `--set` | meaning |\n|---|---|---|---|---|\n")
	for _, k := range keys {
		if k.Scope == Run {
			set := "yes"
			if k.FileOnly {
				set = "no"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", k.Name, k.Type, showDefault(k.Default), set, k.Doc)
		}
	}
	b.WriteString("\n| parameter | workloads | value | default | meaning |\n|---|---|---|---|---|\n")
	for _, k := range keys {
		if k.Scope != Run {
			kinds := "every workload"
			if k.Scope == Param {
				kinds = strings.Join(k.Kinds, ", ")
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", k.Name, kinds, k.Type, showDefault(k.Default), k.Doc)
		}
	}
	return b.String()
}

func showDefault(d string) string {
	if d == "" {
		return `""`
	}
	return d
}

// ReplaceReference returns doc with the text between the reference
// markers replaced by Reference().
func ReplaceReference(doc string) (string, error) {
	before, rest, ok := strings.Cut(doc, referenceBegin)
	if !ok {
		return "", fmt.Errorf("no line %q", strings.TrimSpace(referenceBegin))
	}
	_, after, ok := strings.Cut(rest, referenceEnd)
	if !ok {
		return "", fmt.Errorf("no line %q", strings.TrimSpace(referenceEnd))
	}
	return before + referenceBegin + Reference() + referenceEnd + after, nil
}
