// Package errlist is a list of errors for producers that go on after an
// error so that one run reports every problem (avo's and go/scanner's
// ErrorList).
package errlist

import "fmt"

// List is the errors of one run, in the order found.
type List[E error] []E

// Error is the first error and how many follow; print the elements to
// show them all.
func (l List[E]) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0].Error(), len(l)-1)
}

// Unwrap lets errors.Is and errors.As look at every element.
func (l List[E]) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Err returns nil for an empty list, else the list itself.
func (l List[E]) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}
