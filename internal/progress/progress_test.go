package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// A clock the test moves.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestLinesEveryIntervalWithTimeLeft(t *testing.T) {
	var out bytes.Buffer
	c := &clock{time.Unix(1000, 0)}
	l := NewLines(&out, 10*time.Second)
	l.now = c.now
	l.Start(4, "emulating")
	c.t = c.t.Add(4 * time.Second)
	l.Done() // 4s: too soon for a line
	c.t = c.t.Add(8 * time.Second)
	l.Done() // 12s, 2 of 4: 12s more
	c.t = c.t.Add(5 * time.Second)
	l.Done() // 17s: 5s after the last line
	c.t = c.t.Add(6 * time.Second)
	l.Done() // 23s, all done: the closing line says it
	l.Finish()
	want := "emulating: 2/4 (50%), 12s elapsed, about 12s left\nemulating: 4/4 in 23s\n"
	if out.String() != want {
		t.Errorf("wrote\n%s\nwant\n%s", out.String(), want)
	}
}

// A phase shorter than the interval writes nothing, start to finish.
func TestLinesQuietForShortPhases(t *testing.T) {
	var out bytes.Buffer
	c := &clock{time.Unix(0, 0)}
	l := NewLines(&out, 10*time.Second)
	l.now = c.now
	l.Start(3, "native")
	for range 3 {
		c.t = c.t.Add(time.Second)
		l.Done()
	}
	l.Finish()
	if out.Len() != 0 {
		t.Errorf("wrote %q for a 3s phase", out.String())
	}
}

// Output that is not a terminal gets lines, not a bar's control codes.
func TestNewPicksLinesOffTerminal(t *testing.T) {
	var out bytes.Buffer
	if _, ok := New(&out).(*Lines); !ok {
		t.Errorf("New(buffer) is %T, want *Lines", New(&out))
	}
	if strings.Contains(out.String(), "\r") {
		t.Errorf("wrote %q", out.String())
	}
}
