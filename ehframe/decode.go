package ehframe

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
)

// Memory is what the decoder and the unwind step read: the records and, for
// Step, the stack.
type Memory interface {
	ReadMem(addr uint64, p []byte) error
}

// Segment is a byte slice at an address.
type Segment struct {
	Addr uint64
	Data []byte
}

// Segments is a Memory made of byte slices.
type Segments []Segment

// ReadMem implements Memory; a read must lie within one segment.
func (s Segments) ReadMem(addr uint64, p []byte) error {
	for _, g := range s {
		if addr >= g.Addr && addr-g.Addr <= uint64(len(g.Data)) && uint64(len(p)) <= uint64(len(g.Data))-(addr-g.Addr) {
			copy(p, g.Data[addr-g.Addr:])
			return nil
		}
	}
	return fmt.Errorf("read of %d bytes at %#x: not mapped", len(p), addr)
}

func readU32(m Memory, addr uint64) (uint32, error) {
	var b [4]byte
	if err := m.ReadMem(addr, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

func readU64(m Memory, addr uint64) (uint64, error) {
	var b [8]byte
	if err := m.ReadMem(addr, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// reader decodes fields of a byte slice that sits at address base.
type reader struct {
	b    []byte
	base uint64
	off  int
	err  error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("at %#x: "+format, append([]any{r.addr()}, args...)...)
	}
}

func (r *reader) addr() uint64 { return r.base + uint64(r.off) }
func (r *reader) done() bool   { return r.off >= len(r.b) || r.err != nil }

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.fail("%d bytes past the end of the entry", n)
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *reader) u8() uint8 {
	if p := r.bytes(1); p != nil {
		return p[0]
	}
	return 0
}

func (r *reader) uN(n int) uint64 {
	p := r.bytes(n)
	var v uint64
	for i := len(p) - 1; i >= 0; i-- {
		v = v<<8 | uint64(p[i])
	}
	return v
}

func (r *reader) uleb() uint64 {
	var v uint64
	for shift := 0; ; shift += 7 {
		c := r.u8()
		if r.err != nil {
			return 0
		}
		if shift < 64 {
			v |= uint64(c&0x7f) << shift
		}
		if c&0x80 == 0 {
			return v
		}
	}
}

func (r *reader) sleb() int64 {
	var v int64
	shift := 0
	for {
		c := r.u8()
		if r.err != nil {
			return 0
		}
		if shift < 64 {
			v |= int64(c&0x7f) << shift
		}
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v
		}
	}
}

func (r *reader) cstring() string {
	i := r.off
	for i < len(r.b) && r.b[i] != 0 {
		i++
	}
	s := string(r.bytes(i - r.off))
	r.u8()
	return s
}

// pointer decodes a DW_EH_PE-encoded value; dataRel is the base of
// DW_EH_PE_datarel (the .eh_frame_hdr address).
func (r *reader) pointer(enc byte, dataRel uint64) uint64 {
	if enc == PEOmit {
		return 0
	}
	at := r.addr()
	var v uint64
	switch enc & peFormatMask {
	case PEAbsPtr, PEUData8, PESData8:
		v = r.uN(8)
	case PEULEB128:
		v = r.uleb()
	case PEUData2:
		v = r.uN(2)
	case PEUData4:
		v = r.uN(4)
	case PESLEB128:
		v = uint64(r.sleb())
	case PESData2:
		v = uint64(int64(int16(r.uN(2))))
	case PESData4:
		v = uint64(int64(int32(r.uN(4))))
	default:
		r.fail("pointer encoding %#x: unknown format", enc)
		return 0
	}
	switch enc & peApplyMask {
	case PEAbsPtr:
	case PEPCRel:
		v += at
	case PEDataRel:
		v += dataRel
	default:
		r.fail("pointer encoding %#x: unsupported application", enc)
	}
	if enc&PEIndirect != 0 {
		r.fail("pointer encoding %#x: indirect pointers are not supported", enc)
	}
	return v
}

// CIE is a decoded Common Information Entry.
type CIE struct {
	Addr         uint64
	Version      uint8
	Augmentation string
	CodeAlign    uint64
	DataAlign    int64
	RAReg        Reg
	FDEEncoding  byte // DW_EH_PE_absptr without "R"
	SignalFrame  bool // "S"
	Insts        []byte
	InstsAddr    uint64
}

// FDE is a decoded Frame Description Entry.
type FDE struct {
	Addr           uint64
	CIE            *CIE
	PCBegin, PCEnd uint64
	Insts          []byte
	InstsAddr      uint64
}

// entry reads the .eh_frame entry at addr: its bytes after the length field
// (nil for the terminator) and the address of the CIE id / pointer field.
func entry(m Memory, addr uint64) ([]byte, error) {
	n, err := readU32(m, addr)
	if err != nil {
		return nil, err
	}
	if n == 0xffffffff {
		return nil, fmt.Errorf("entry at %#x: 64-bit DWARF lengths are not supported", addr)
	}
	if n == 0 {
		return nil, nil
	}
	if n < 4 {
		return nil, fmt.Errorf("entry at %#x: length %d", addr, n)
	}
	b := make([]byte, n)
	if err := m.ReadMem(addr+4, b); err != nil {
		return nil, fmt.Errorf("entry at %#x: %w", addr, err)
	}
	return b, nil
}

// ReadCIE decodes the CIE at addr.
func ReadCIE(m Memory, addr uint64) (*CIE, error) {
	b, err := entry(m, addr)
	if err != nil {
		return nil, err
	}
	if b == nil || binary.LittleEndian.Uint32(b) != 0 {
		return nil, fmt.Errorf("entry at %#x is not a CIE", addr)
	}
	r := &reader{b: b, base: addr + 4, off: 4}
	c := &CIE{Addr: addr, FDEEncoding: PEAbsPtr}
	c.Version = r.u8()
	if c.Version != 1 && c.Version != 3 {
		return nil, fmt.Errorf("CIE at %#x: version %d", addr, c.Version)
	}
	c.Augmentation = r.cstring()
	c.CodeAlign = r.uleb()
	c.DataAlign = r.sleb()
	if c.Version == 1 {
		c.RAReg = Reg(r.u8())
	} else {
		c.RAReg = Reg(r.uleb())
	}
	if aug := c.Augmentation; aug != "" {
		if aug[0] != 'z' {
			return nil, fmt.Errorf("CIE at %#x: augmentation %q without 'z'", addr, aug)
		}
		n := r.uleb()
		end := r.off + int(n)
		for _, a := range aug[1:] {
			switch a {
			case 'R':
				c.FDEEncoding = r.u8()
			case 'L':
				r.u8() // LSDA encoding: FDEs' augmentation data is skipped by length
			case 'P':
				r.pointer(r.u8(), 0)
			case 'S':
				c.SignalFrame = true
			default:
				return nil, fmt.Errorf("CIE at %#x: augmentation %q: unknown %q", addr, aug, a)
			}
		}
		if r.err == nil && r.off != end {
			return nil, fmt.Errorf("CIE at %#x: augmentation data of %d bytes, decoded %d", addr, n, r.off-(end-int(n)))
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("CIE at %#x: %w", addr, r.err)
	}
	if int(c.RAReg) >= NumRegs {
		return nil, fmt.Errorf("CIE at %#x: return address column %d", addr, c.RAReg)
	}
	c.InstsAddr = r.addr()
	c.Insts = b[r.off:]
	return c, nil
}

// ReadFDE decodes the FDE at addr and its CIE.
func ReadFDE(m Memory, addr uint64) (*FDE, error) {
	b, err := entry(m, addr)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, fmt.Errorf("entry at %#x is the terminator, not an FDE", addr)
	}
	ptr := binary.LittleEndian.Uint32(b)
	if ptr == 0 {
		return nil, fmt.Errorf("entry at %#x is a CIE, not an FDE", addr)
	}
	cie, err := ReadCIE(m, addr+4-uint64(ptr))
	if err != nil {
		return nil, fmt.Errorf("FDE at %#x: %w", addr, err)
	}
	return decodeFDE(cie, b, addr)
}

func decodeFDE(cie *CIE, b []byte, addr uint64) (*FDE, error) {
	r := &reader{b: b, base: addr + 4, off: 4}
	f := &FDE{Addr: addr, CIE: cie}
	f.PCBegin = r.pointer(cie.FDEEncoding, 0)
	f.PCEnd = f.PCBegin + r.pointer(cie.FDEEncoding&peFormatMask, 0)
	if strings.HasPrefix(cie.Augmentation, "z") {
		r.bytes(int(r.uleb()))
	}
	if r.err != nil {
		return nil, fmt.Errorf("FDE at %#x: %w", addr, r.err)
	}
	f.InstsAddr = r.addr()
	f.Insts = b[r.off:]
	return f, nil
}

// ReadSection decodes every FDE of the .eh_frame section at [addr,
// addr+size), in section order.
func ReadSection(m Memory, addr, size uint64) ([]*FDE, error) {
	cies := map[uint64]*CIE{}
	var fdes []*FDE
	for at := addr; at < addr+size; {
		b, err := entry(m, at)
		if err != nil {
			return nil, err
		}
		if b == nil {
			break
		}
		if ptr := binary.LittleEndian.Uint32(b); ptr == 0 {
			c, err := ReadCIE(m, at)
			if err != nil {
				return nil, err
			}
			cies[at] = c
		} else {
			c, ok := cies[at+4-uint64(ptr)]
			if !ok {
				return nil, fmt.Errorf("FDE at %#x: no CIE at %#x earlier in the section", at, at+4-uint64(ptr))
			}
			f, err := decodeFDE(c, b, at)
			if err != nil {
				return nil, err
			}
			fdes = append(fdes, f)
		}
		at += 4 + uint64(len(b))
	}
	return fdes, nil
}

// Hdr is a decoded .eh_frame_hdr with the encodings Writer uses (the only
// table encoding libunwind binary-searches).
type Hdr struct {
	Addr    uint64
	EHFrame uint64 // address of .eh_frame
	Count   uint32 // table entries
}

// ReadHdr decodes the .eh_frame_hdr at addr.
func ReadHdr(m Memory, addr uint64) (Hdr, error) {
	b := make([]byte, HdrOffTable)
	if err := m.ReadMem(addr, b); err != nil {
		return Hdr{}, fmt.Errorf("eh_frame_hdr at %#x: %w", addr, err)
	}
	if b[HdrOffVersion] != HdrVersion || b[HdrOffEHFramePtrEnc] != HdrEHFramePtrEnc ||
		b[HdrOffFDECountEnc] != HdrFDECountEnc || b[HdrOffTableEnc] != HdrTableEnc {
		return Hdr{}, fmt.Errorf("eh_frame_hdr at %#x: version/encodings % x, want %02x %02x %02x %02x", addr, b[:4],
			HdrVersion, HdrEHFramePtrEnc, HdrFDECountEnc, HdrTableEnc)
	}
	r := &reader{b: b, base: addr, off: HdrOffEHFramePtr}
	h := Hdr{Addr: addr}
	h.EHFrame = r.pointer(HdrEHFramePtrEnc, addr)
	h.Count = uint32(r.pointer(HdrFDECountEnc, addr))
	return h, r.err
}

// Entry returns table entry i: a function's start and its FDE's address.
func (h Hdr) Entry(m Memory, i uint32) (loc, fde uint64, err error) {
	if i >= h.Count {
		return 0, 0, fmt.Errorf("eh_frame_hdr entry %d of %d", i, h.Count)
	}
	at := h.Addr + HdrOffTable + uint64(i)*HdrEntrySize
	v, err := readU64(m, at)
	if err != nil {
		return 0, 0, err
	}
	return h.Addr + uint64(int64(int32(v))), h.Addr + uint64(int64(int32(v>>32))), nil
}

// Search binary-searches the table for the last function starting at or
// below pc, as libunwind's lookup does, and returns its FDE's address
// (ok false if every function starts above pc). The FDE's range still has
// to be checked.
func (h Hdr) Search(m Memory, pc uint64) (fde uint64, ok bool, err error) {
	var serr error
	i := sort.Search(int(h.Count), func(i int) bool {
		loc, _, err := h.Entry(m, uint32(i))
		if err != nil && serr == nil {
			serr = err
		}
		return loc > pc
	})
	if serr != nil {
		return 0, false, serr
	}
	if i == 0 {
		return 0, false, nil
	}
	_, fde, err = h.Entry(m, uint32(i-1))
	return fde, err == nil, err
}
