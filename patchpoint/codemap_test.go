package patchpoint

import (
	"math/rand/v2"
	"testing"
)

// The nibble map finds the start of the method around every address of
// every method, however methods are laid out: sizes from a few bytes to
// several DWORDs, starts 4-byte aligned, at most one per 32-byte bucket.
// Every way through Find is taken.
func TestNibbleMapFindsEveryMethod(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	var paths [NibblePaths]int
	for trial := range 200 {
		type method struct{ start, size uint64 }
		var ms []method
		at := uint64(rng.IntN(64)) &^ 3
		for len(ms) < 40 {
			size := uint64(1 + rng.IntN(40))
			if rng.IntN(4) == 0 {
				size += uint64(rng.IntN(1200))
			}
			ms = append(ms, method{at, size})
			next := (at + size + 3) &^ 3
			if next/NibbleBytesPerBucket == at/NibbleBytesPerBucket { // one start per bucket
				next = (at/NibbleBytesPerBucket + 1) * NibbleBytesPerBucket
			}
			at = next + uint64(rng.IntN(3))*4*uint64(rng.IntN(20))
		}
		last := ms[len(ms)-1]
		m := NewNibbleMap(last.start + last.size)
		for _, x := range ms {
			m.Set(x.start, x.size)
		}
		for _, x := range ms {
			for d := x.start; d < x.start+x.size; d++ {
				got, path := m.FindPath(d)
				if path == NibbleNone || got != x.start {
					t.Fatalf("trial %d: Find(%#x) = %#x (path %d), want the method at %#x+%d", trial, d, got, path, x.start, x.size)
				}
				paths[path]++
			}
		}
		if ms[0].start > 0 {
			if _, path := m.FindPath(0); path != NibbleNone {
				t.Fatalf("trial %d: an address before every method found one (path %d)", trial, path)
			}
			paths[NibbleNone]++
		}
	}
	for p, n := range paths {
		if n == 0 {
			t.Errorf("path %d never taken", p)
		}
	}
	t.Logf("paths taken: %v", paths)
}

// Set refuses a second start in a bucket: Find could not tell them apart.
func TestNibbleMapRejectsTwoStartsInABucket(t *testing.T) {
	m := NewNibbleMap(1024)
	m.Set(0x40, 8)
	defer func() {
		if recover() == nil {
			t.Error("a second start in bucket 0x40 was accepted")
		}
	}()
	m.Set(0x48, 8)
}

func TestMapIndex(t *testing.T) {
	addr := uint64(0x5_0002_0000) // 128 KiB granules: bit 17 and up
	if MapIndex(addr, 1) != 0x01 || MapIndex(addr, 2) != 0x80 || MapIndex(addr, 3) != 0x02 || MapIndex(addr, 4) != 0 || MapIndex(addr, 5) != 0 {
		t.Errorf("indices of %#x: %d %d %d %d %d", addr, MapIndex(addr, 1), MapIndex(addr, 2), MapIndex(addr, 3), MapIndex(addr, 4), MapIndex(addr, 5))
	}
	if MapBytesAtLastLevel != 128<<10 {
		t.Errorf("a last-level entry covers %#x bytes", MapBytesAtLastLevel)
	}
}
