//go:build linux && amd64 && cgo

package native

import (
	"fmt"
	"syscall"
	"unsafe"

	"github.com/osrsim/osrsim/sim"
)

// MAP_FIXED_NOREPLACE (Linux 4.17) is not in package syscall. Older kernels
// ignore it and treat the address as a hint, which mmapAt detects.
const mapFixedNoreplace = 0x100000

// Loaded is an image mapped at its fixed addresses. It is not safe for
// concurrent use, and the image must not be modified while it is loaded
// (Reset copies from its Init bytes).
type Loaded struct {
	im   *sim.Image
	maps []mapping
	// stub is one RX page holding a single `ret`, outside the image: the
	// empty call the baseline times.
	stub []byte
}

type mapping struct {
	r   *sim.Region
	mem []byte // the whole region, len == Size
}

// Load maps every region of im at its base address. If any address is
// taken (another Loaded, or anything else), it unmaps what it mapped and
// returns an error naming the region. The caller must Close the result.
func Load(im *sim.Image) (*Loaded, error) {
	if err := im.Validate(); err != nil {
		return nil, fmt.Errorf("native: %w", err)
	}
	l := &Loaded{im: im}
	for i := range im.Regions {
		r := &im.Regions[i]
		mem, err := mmapAt(r.Base, r.Size)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("native: map region %s at %#x (%#x bytes): %w", r.Name, r.Base, r.Size, err)
		}
		l.maps = append(l.maps, mapping{r, mem})
		copy(mem, r.Init)
		if err := syscall.Mprotect(mem, prot(r.Perm)); err != nil {
			l.Close()
			return nil, fmt.Errorf("native: mprotect region %s to %s: %w", r.Name, r.Perm, err)
		}
	}
	stub, err := mmapAt(0, sim.PageSize)
	if err == nil {
		stub[0] = 0xc3 // ret
		err = syscall.Mprotect(stub, syscall.PROT_READ|syscall.PROT_EXEC)
		l.stub = stub
	}
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("native: map baseline stub: %w", err)
	}
	return l, nil
}

// Close unmaps everything. It is idempotent.
func (l *Loaded) Close() error {
	var first error
	for _, m := range l.maps {
		if err := munmap(m.mem); err != nil && first == nil {
			first = fmt.Errorf("native: unmap region %s: %w", m.r.Name, err)
		}
	}
	l.maps = nil
	if l.stub != nil {
		if err := munmap(l.stub); err != nil && first == nil {
			first = fmt.Errorf("native: unmap baseline stub: %w", err)
		}
		l.stub = nil
	}
	return first
}

// Reset restores every writable region to its Init bytes, zeroing the rest,
// so each sample starts from the same state.
func (l *Loaded) Reset() error {
	if l.maps == nil {
		return errClosed
	}
	for _, m := range l.maps {
		if m.r.Perm&sim.PermW != 0 {
			n := copy(m.mem, m.r.Init)
			clear(m.mem[n:])
		}
	}
	return nil
}

// Memory returns a copy of a region's current bytes, or nil if the image has
// no such region or is closed. Useful to diff against the emulator when
// checksums disagree.
func (l *Loaded) Memory(name string) []byte {
	for _, m := range l.maps {
		if m.r.Name == name {
			var b []byte
			readable(m, func(mem []byte) { b = append([]byte(nil), mem...) })
			return b
		}
	}
	return nil
}

// state returns ret with the checksum of every Compared region.
func (l *Loaded) state(ret uint64) sim.State {
	s := sim.State{Ret: ret, Checksums: map[string]string{}}
	for _, m := range l.maps {
		if m.r.Compared {
			readable(m, func(mem []byte) { s.Checksums[m.r.Name] = sim.Checksum(mem) })
		}
	}
	return s
}

// readable calls f with the region's memory, briefly adding PROT_READ if the
// region lacks it (the emulator can read any region, so must we).
func readable(m mapping, f func([]byte)) {
	if m.r.Perm&sim.PermR != 0 {
		f(m.mem)
		return
	}
	if err := syscall.Mprotect(m.mem, prot(m.r.Perm|sim.PermR)); err != nil {
		panic("BUG: native: mprotect of a mapped region failed: " + err.Error())
	}
	defer syscall.Mprotect(m.mem, prot(m.r.Perm))
	f(m.mem)
}

func prot(p sim.Perm) int {
	var pr int
	if p&sim.PermR != 0 {
		pr |= syscall.PROT_READ
	}
	if p&sim.PermW != 0 {
		pr |= syscall.PROT_WRITE
	}
	if p&sim.PermX != 0 {
		pr |= syscall.PROT_EXEC
	}
	return pr
}

// mmapAt maps size bytes of private anonymous RW memory at exactly addr
// (anywhere if addr is 0). syscall.Mmap cannot take an address.
func mmapAt(addr, size uint64) ([]byte, error) {
	flags := syscall.MAP_PRIVATE | syscall.MAP_ANONYMOUS
	if addr != 0 {
		flags |= mapFixedNoreplace
	}
	got, _, errno := syscall.Syscall6(syscall.SYS_MMAP, uintptr(addr), uintptr(size),
		syscall.PROT_READ|syscall.PROT_WRITE, uintptr(flags), ^uintptr(0), 0)
	if errno == syscall.EEXIST {
		return nil, fmt.Errorf("address range already mapped: %w", errno)
	}
	if errno != 0 {
		return nil, errno
	}
	mem := bytesAt(uint64(got), size)
	if addr != 0 && uint64(got) != addr {
		munmap(mem)
		return nil, fmt.Errorf("kernel placed it at %#x (MAP_FIXED_NOREPLACE needs Linux 4.17)", got)
	}
	return mem, nil
}

// munmap works on any mapping; syscall.Munmap only on syscall.Mmap's own.
func munmap(mem []byte) error {
	_, _, errno := syscall.Syscall(syscall.SYS_MUNMAP, uintptr(unsafe.Pointer(&mem[0])), uintptr(len(mem)), 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// bytesAt views size bytes of memory outside the Go heap at addr. The
// pointer is built through memory rather than converted from a uintptr
// expression, which vet rightly flags for Go memory; this memory is ours
// and never moves.
func bytesAt(addr, size uint64) []byte {
	p := *(*unsafe.Pointer)(unsafe.Pointer(&addr))
	return unsafe.Slice((*byte)(p), size)
}

func addrOf(mem []byte) uint64 { return uint64(uintptr(unsafe.Pointer(&mem[0]))) }
