package errlist

import (
	"errors"
	"io/fs"
	"testing"
)

func TestList(t *testing.T) {
	var l List[error]
	if l.Err() != nil || l.Error() != "no errors" {
		t.Errorf("empty: %v, %q", l.Err(), l.Error())
	}
	l = append(l, errors.New("a"))
	if l.Err() == nil || l.Error() != "a" {
		t.Errorf("one: %q", l.Error())
	}
	l = append(l, fs.ErrNotExist, errors.New("c"))
	if l.Error() != "a (and 2 more errors)" || !errors.Is(l.Err(), fs.ErrNotExist) {
		t.Errorf("three: %q", l.Error())
	}
}
