package enum

import (
	"reflect"
	"testing"
)

type color uint8

func (c color) String() string { return [...]string{"red", "green"}[c] }

var colors = []color{0, 1}

func TestParse(t *testing.T) {
	if c, err := Parse(colors, "color", "green"); c != 1 || err != nil {
		t.Errorf("Parse(green) = %v, %v", c, err)
	}
	_, err := Parse(colors, "color", "blue")
	if err == nil || err.Error() != `unknown color "blue" (want one of red, green)` {
		t.Errorf("Parse(blue) = %v", err)
	}
	if got := Names(colors); !reflect.DeepEqual(got, []string{"red", "green"}) {
		t.Errorf("Names = %v", got)
	}
}
