//go:build linux && amd64 && cgo

package native

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/simtest"
)

// Offsets in the data region used by the test images.
const (
	offSum = 0x0   // sum of squares
	offSq  = 0x8   // squares[i] at offSq + 8*i
	offRSP = 0x800 // main's stack pointer
)

// sumImage computes squares i*i for i < arg into data, their sum into
// data[offSum], records its RSP, and returns sum ^ 0x5a5a. It clobbers every
// callee-saved register, which the entry stub must restore for the C loop.
// It is idempotent, so Reps > 1 is fine.
func sumImage(tb testing.TB, n uint64) *sim.Image {
	im := simtest.Assemble(tb, fmt.Sprintf(`
main:
	movabs $%#x, %%rsi
	mov %%rsp, %#x(%%rsi)
	mov $-1, %%rbx
	mov $-1, %%rbp
	mov $-1, %%r12
	mov $-1, %%r13
	mov $-1, %%r14
	mov $-1, %%r15
	xor %%eax, %%eax
	xor %%ecx, %%ecx
loop:
	cmp %%rdi, %%rcx
	jae done
	mov %%rcx, %%rdx
	imul %%rcx, %%rdx
	mov %%rdx, %#x(%%rsi,%%rcx,8)
	add %%rdx, %%rax
	inc %%rcx
	jmp loop
done:
	mov %%rax, %#x(%%rsi)
	xor $0x5a5a, %%rax
	ret
`, sim.DataBase, offRSP, offSq, offSum), nil)
	im.Arg = n
	return im
}

// sumExpect is the pure-Go expectation of sumImage: return value and data
// region bytes (without the RSP slot, which the test checks separately).
func sumExpect(n uint64) (uint64, []byte) {
	data := make([]byte, simtest.DataSize)
	var sum uint64
	for i := uint64(0); i < n; i++ {
		binary.LittleEndian.PutUint64(data[offSq+8*i:], i*i)
		sum += i * i
	}
	binary.LittleEndian.PutUint64(data[offSum:], sum)
	return sum ^ 0x5a5a, data
}

func load(t *testing.T, im *sim.Image) *Loaded {
	t.Helper()
	l, err := Load(im)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestRunMatchesGo(t *testing.T) {
	const n = 100
	l := load(t, sumImage(t, n))
	res, err := l.Run(Options{Warmup: 1, Samples: 3, Reps: 10})
	if err != nil {
		t.Fatal(err)
	}
	wantRet, wantData := sumExpect(n)
	if res.State.Ret != wantRet {
		t.Fatalf("ret %#x, want %#x", res.State.Ret, wantRet)
	}
	data := l.Memory(sim.RegionData)
	rsp := binary.LittleEndian.Uint64(data[offRSP:])
	// The entry stub switched to the image stack: main ran with RSP inside
	// it, 8 below its top (the return address of `call main`).
	if rsp != sim.StackBase+simtest.StackSize-8 {
		t.Errorf("main ran with RSP %#x, want %#x (image stack top - 8)", rsp, sim.StackBase+simtest.StackSize-8)
	}
	binary.LittleEndian.PutUint64(wantData[offRSP:], rsp)
	if got := res.State.Checksums[sim.RegionData]; got != sim.Checksum(wantData) {
		t.Errorf("data checksum %s, want %s", got, sim.Checksum(wantData))
	}
	for i := 0; i < 0x1000; i++ {
		if data[i] != wantData[i] {
			t.Fatalf("data[%#x] = %#x, want %#x", i, data[i], wantData[i])
		}
	}
	if len(res.SamplesNs) != 3 || res.Reps != 10 {
		t.Errorf("result %+v", res)
	}
	for _, name := range []string{sim.RegionData, sim.RegionHeap, sim.RegionStack} {
		if res.State.Checksums[name] == "" {
			t.Errorf("no checksum for compared region %s", name)
		}
	}
	if _, ok := res.State.Checksums[sim.RegionHost]; ok {
		t.Errorf("host region is not compared but has a checksum")
	}
}

// counterImage increments a counter that starts at 5: not idempotent, so it
// shows where Reset happens.
func counterImage(tb testing.TB) *sim.Image {
	return simtest.Assemble(tb, fmt.Sprintf(`
main:
	movabs $%#x, %%rsi
	incq (%%rsi)
	mov (%%rsi), %%rax
	ret
`, sim.DataBase), []byte{5})
}

func TestResetBetweenSamples(t *testing.T) {
	l := load(t, counterImage(t))
	r1, err := l.Run(Options{Warmup: 2, Samples: 3})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := l.Run(Options{Samples: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r1.State.Ret != 6 {
		t.Errorf("ret %d, want 6: each sample starts from Init", r1.State.Ret)
	}
	if err := r1.State.Diff(r2.State); err != nil {
		t.Errorf("two runs differ: %v", err)
	}
	// Reps calls share one sample's state.
	r3, err := l.Run(Options{Samples: 2, Reps: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r3.State.Ret != 8 {
		t.Errorf("ret %d with Reps 3, want 8", r3.State.Ret)
	}
	if err := l.Reset(); err != nil {
		t.Fatal(err)
	}
	if d := l.Memory(sim.RegionData); d[0] != 5 || d[1] != 0 {
		t.Errorf("after Reset data starts % x", d[:4])
	}
	if s := l.Memory(sim.RegionStack); s[len(s)-8] != 0 {
		t.Errorf("after Reset the stack is not zero")
	}
}

// mapsLine returns the /proc/self/maps line of the mapping starting at addr.
func mapsLine(t *testing.T, addr uint64) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		lo, _, ok := strings.Cut(line, "-")
		if v, err := strconv.ParseUint(lo, 16, 64); ok && err == nil && v == addr {
			return line
		}
	}
	return ""
}

func TestPermissions(t *testing.T) {
	im := sumImage(t, 3)
	l := load(t, im)
	want := map[string]string{sim.RegionCode: "r-xp", sim.RegionData: "rw-p", sim.RegionStack: "rw-p", sim.RegionHost: "rw-p"}
	for _, r := range im.Regions {
		line := mapsLine(t, r.Base)
		if line == "" {
			t.Fatalf("region %s at %#x not in /proc/self/maps", r.Name, r.Base)
		}
		perms := strings.Fields(line)[1]
		if w, ok := want[r.Name]; ok && perms != w {
			t.Errorf("region %s: %s, want %s", r.Name, line, w)
		}
		if strings.Contains(perms, "w") && strings.Contains(perms, "x") {
			t.Errorf("region %s writable and executable: %s", r.Name, line)
		}
	}
	if line := mapsLine(t, addrOf(l.stub)); !strings.HasPrefix(strings.Fields(line)[1], "r-x") {
		t.Errorf("baseline stub: %s", line)
	}
}

func TestLoadConflictLeavesNothing(t *testing.T) {
	im := sumImage(t, 3)
	l := load(t, im)
	if _, err := Load(im); err == nil || !strings.Contains(err.Error(), "region code") || !strings.Contains(err.Error(), "already mapped") {
		t.Fatalf("second Load: %v", err)
	}
	// A free region mapped before the conflicting one must be unmapped.
	const free = 0x5_5000_0000
	im2 := *im
	im2.Regions = append([]sim.Region{{Name: "extra", Base: free, Size: sim.PageSize, Perm: sim.PermR}}, im.Regions...)
	if _, err := Load(&im2); err == nil || !strings.Contains(err.Error(), "region code") {
		t.Fatalf("conflicting Load: %v", err)
	}
	if line := mapsLine(t, free); line != "" {
		t.Errorf("failed Load left a mapping: %s", line)
	}
	// The first image still works, and Close is idempotent.
	if res, err := l.Run(Options{}); err != nil || res.State.Ret != 5^0x5a5a {
		t.Fatalf("first image after failed Load: %v %+v", err, res)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if line := mapsLine(t, sim.CodeBase); line != "" {
		t.Errorf("Close left %s", line)
	}
	if _, err := l.Run(Options{}); err == nil {
		t.Errorf("Run after Close succeeded")
	}
}

func TestBadOptions(t *testing.T) {
	l := load(t, sumImage(t, 3))
	if _, err := l.Run(Options{Reps: -1}); err == nil {
		t.Fatal("negative Reps accepted")
	}
}
