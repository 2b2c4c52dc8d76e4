//go:build linux && amd64 && cgo

package native

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/simtest"
)

func TestChildMatchesInProcess(t *testing.T) {
	im := sumImage(t, 50)
	opt := Options{Warmup: 1, Samples: 2, Reps: 4}
	child, err := RunInChild(im, opt)
	if err != nil {
		t.Fatal(err)
	}
	l := load(t, im)
	in, err := l.Run(opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := child.State.Diff(in.State); err != nil {
		t.Fatalf("child and in-process states differ: %v", err)
	}
	if len(child.SamplesNs) != 2 || child.Reps != 4 {
		t.Errorf("child result %+v", child)
	}
}

func TestChildCrashes(t *testing.T) {
	const unmapped = 0x6_0000_0000
	for _, tc := range []struct {
		name, src, signal, symbol string
		addr                      uint64 // fault address, 0 if none
	}{
		{"ud2", "main:\n\tud2\n", "SIGILL", "main+0x0", 0},
		{"unmapped write", fmt.Sprintf("main:\n\tmovabs $%#x, %%rax\n\tmovq $1, (%%rax)\n\tret\n", unmapped), "SIGSEGV", "main+0xa", unmapped},
		{"write to code", fmt.Sprintf("main:\n\tmovabs $%#x, %%rax\n\tmovb $0xc3, (%%rax)\n\tret\n", sim.CodeBase), "SIGSEGV", "main+0xa", sim.CodeBase},
		{"int3", "main:\n\tint3\n\tret\n", "SIGTRAP", "main+0x1", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			im := simtest.Assemble(t, tc.src, nil)
			_, err := RunInChild(im, Options{})
			var ce *CrashError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *CrashError", err)
			}
			if ce.Signal != tc.signal || !strings.HasPrefix(err.Error(), "native run crashed: "+tc.signal) {
				t.Fatalf("err = %q, want a %s crash", err, tc.signal)
			}
			if ce.Symbol != tc.symbol || ce.Addr != tc.addr || ce.HasAddr != (tc.addr != 0) {
				t.Errorf("crash at %s addr %#x (%v), want %s addr %#x\n%v", ce.Symbol, ce.Addr, ce.HasAddr, tc.symbol, tc.addr, err)
			}
		})
	}
}

func TestChildTimeout(t *testing.T) {
	im := simtest.Assemble(t, "main:\n\tjmp main\n", nil)
	start := time.Now()
	_, err := RunInChild(im, Options{Timeout: 300 * time.Millisecond})
	var ce *CrashError
	if !errors.As(err, &ce) || !ce.TimedOut {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("timeout took %v", d)
	}
}

func TestChildReportsLoadErrors(t *testing.T) {
	// An image the child cannot map: its code is fine but one region
	// sits in the kernel half of the address space.
	im := sumImage(t, 3)
	im.Regions = append(im.Regions, sim.Region{Name: "high", Base: 0xffff_8000_0000_0000, Size: sim.PageSize, Perm: sim.PermR})
	_, err := RunInChild(im, Options{})
	var ce *CrashError
	if err == nil || errors.As(err, &ce) || !strings.Contains(err.Error(), "region high") {
		t.Fatalf("err = %v, want a load error naming region high", err)
	}
}

func TestRunInChildPinsCPU(t *testing.T) {
	im := simtest.Assemble(t, "main:\n\tmov $7, %eax\n\tret\n", nil)
	cpu := 0
	r, err := RunInChild(im, Options{Samples: 1, PinCPU: &cpu})
	if err != nil || r.State.Ret != 7 {
		t.Fatalf("pinned run: %v, %+v", err, r)
	}
	bad := 1 << 20
	if _, err := RunInChild(im, Options{Samples: 1, PinCPU: &bad}); err == nil || !strings.Contains(err.Error(), "pin to CPU") {
		t.Fatalf("pinning to CPU %d: %v", bad, err)
	}
}

// emptyDir waits until dir holds nothing, for at most wait.
func emptyDir(t *testing.T, dir string, wait time.Duration) bool {
	t.Helper()
	for end := time.Now().Add(wait); ; time.Sleep(10 * time.Millisecond) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) == 0 {
			return true
		}
		if time.Now().After(end) {
			t.Logf("%s holds %v", dir, ents)
			return false
		}
	}
}

// Closing Done kills a running child, returns sim.ErrCanceled and leaves
// no image behind. The child deletes its copy of the image as soon as it
// has read it, before it runs anything.
func TestChildCanceled(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	im := simtest.Assemble(t, "main:\n\tjmp main\n", nil)
	done := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		_, err := RunInChild(im, Options{Done: done, Timeout: time.Minute})
		errc <- err
	}()
	if !emptyDir(t, tmp, 10*time.Second) {
		t.Error("the running child did not delete its image directory")
	}
	select {
	case err := <-errc:
		t.Fatalf("the spinning child ended by itself: %v", err)
	default:
	}
	close(done)
	select {
	case err := <-errc:
		if !errors.Is(err, sim.ErrCanceled) {
			t.Fatalf("err = %v, want sim.ErrCanceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("closing Done did not stop the child")
	}
	if _, err := RunInChild(im, Options{Done: done}); !errors.Is(err, sim.ErrCanceled) {
		t.Fatalf("with Done already closed: err = %v, want sim.ErrCanceled", err)
	}
	if !emptyDir(t, tmp, 0) {
		t.Error("a canceled run left files behind")
	}
}

// A child whose parent is not the process named in its environment (the
// parent died before the parent-death signal was armed, and the child was
// re-parented) does nothing and leaves the image alone.
func TestChildChecksItsParent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "image")
	if err := sim.WriteDir(sumImage(t, 3), dir); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, parent := range []string{"1", ""} {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), envChild+"="+dir, envOptions+"={}", envParent+"="+parent)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "native child:") || strings.Contains(string(out), "result") {
			t.Errorf("parent %q: err %v, output %q; want exit 1 naming the parent", parent, err, out)
		}
		if _, err := os.Stat(filepath.Join(dir, sim.ImageJSON)); err != nil {
			t.Errorf("parent %q: the refused child touched the image: %v", parent, err)
		}
	}
}

// Options.Memory brings back the bytes of every compared region, the very
// bytes the checksums were taken of.
func TestChildReturnsMemory(t *testing.T) {
	im := sumImage(t, 10)
	r, err := RunInChild(im, Options{Memory: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, reg := range im.Regions {
		mem, ok := r.Memory[reg.Name]
		if ok != reg.Compared {
			t.Errorf("region %s (compared %v): in Memory %v", reg.Name, reg.Compared, ok)
		}
		if ok && (uint64(len(mem)) != reg.Size || sim.Checksum(mem) != r.State.Checksums[reg.Name]) {
			t.Errorf("region %s: %d bytes, checksum %s; state says %s", reg.Name, len(mem), sim.Checksum(mem), r.State.Checksums[reg.Name])
		}
	}
	if sq := binary.LittleEndian.Uint64(r.Memory[sim.RegionData][offSq+8*9:]); sq != 81 {
		t.Errorf("data holds squares[9] = %d, want 81", sq)
	}
	if r, err := RunInChild(im, Options{}); err != nil || r.Memory != nil {
		t.Errorf("without Options.Memory: memory %v, err %v", r.Memory != nil, err)
	}
}
