package texttable

import (
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	var b strings.Builder
	Write(&b, "  ", [][]string{{"name", "n", "note"}, nil, {"helper", "1,355.0", ""}, {"±", "7", "x"}}, "lr")
	want := "" +
		"  name          n  note\n" +
		"  ------  -------  ----\n" +
		"  helper  1,355.0\n" +
		"  ±             7  x\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if w := Width(want); w != 23 {
		t.Errorf("Width = %d, want 23", w)
	}
}
