package sim

// Image directories lay an image out as plain files, so it can be inspected
// with standard tools and handed to another process (the native engine's
// child runs one):
//
//	image.json   format, entry, arg, regions, symbols (with their region and
//	             step), events, steps, insts
//	code.bin     the Init bytes of region "code"; one <region>.bin per region
//
// A region's file holds only its Init bytes; the rest of the region is zero.
// Addresses are hex strings ("0x500000000") so they paste into gdb and
// objdump, e.g.
//
//	objdump -D -b binary -m i386:x86-64 --adjust-vma=0x500000000 code.bin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/osrsim/osrsim/region"
)

// ImageJSON is the name of the description file in an image directory.
const ImageJSON = "image.json"

// imageDirFormat is bumped when image.json changes incompatibly.
const imageDirFormat = 1

// hexAddr is a uint64 written as a "0x..." JSON string.
type hexAddr uint64

func (h hexAddr) MarshalJSON() ([]byte, error) {
	return []byte(`"` + fmt.Sprintf("%#x", uint64(h)) + `"`), nil
}

func (h *hexAddr) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil || !strings.HasPrefix(s, "0x") {
		return fmt.Errorf("address %s: want a hex string like \"0x500000000\"", b)
	}
	v, err := strconv.ParseUint(s[2:], 16, 64)
	if err != nil {
		return fmt.Errorf("address %q: %v", s, err)
	}
	*h = hexAddr(v)
	return nil
}

type dirImage struct {
	Format  int         `json:"format"`
	Entry   hexAddr     `json:"entry"`
	Arg     hexAddr     `json:"arg"`
	Regions []dirRegion `json:"regions"`
	Symbols []dirSymbol `json:"symbols"`
	Events  []dirEvent  `json:"events"`
	Steps   []dirStep   `json:"steps,omitempty"`
	// Last, because it is by far the longest list.
	Insts []hexAddr `json:"insts"`
}

type dirRegion struct {
	Name     string  `json:"name"`
	Base     hexAddr `json:"base"`
	Size     hexAddr `json:"size"`
	Perm     string  `json:"perm"`
	File     string  `json:"file"`
	Compared bool    `json:"compared"`
}

type dirSymbol struct {
	Name   string        `json:"name"`
	Start  hexAddr       `json:"start"`
	End    hexAddr       `json:"end"`
	Region region.Region `json:"region,omitempty"`
	Step   string        `json:"step,omitempty"`
}

type dirStep struct {
	Region region.Region `json:"region"`
	Name   string        `json:"name"`
	Doc    string        `json:"doc,omitempty"`
}

type dirEvent struct {
	Name string  `json:"name"`
	Addr hexAddr `json:"addr"`
}

// Region names become file names, so they are kept to a safe alphabet.
var regionNameRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// writeFile is os.WriteFile; tests replace it to fail halfway through.
var writeFile = os.WriteFile

// WriteDir writes im as an image directory at dir. It writes into a
// temporary directory next to dir and renames it into place, so on error
// nothing is left behind. An existing dir is replaced only if it is empty or
// an image directory (holds image.json); anything else is refused rather
// than deleted.
func WriteDir(im *Image, dir string) (err error) {
	fail := func(err error) error { return fmt.Errorf("write image dir %s: %w", dir, err) }
	if err := im.Validate(); err != nil {
		return fail(err)
	}
	d := dirImage{Format: imageDirFormat, Entry: hexAddr(im.Entry), Arg: hexAddr(im.Arg)}
	seen := map[string]bool{}
	for _, r := range im.Regions {
		if !regionNameRe.MatchString(r.Name) {
			return fail(fmt.Errorf("region name %q is not usable as a file name", r.Name))
		}
		if seen[r.Name] {
			return fail(fmt.Errorf("duplicate region name %q", r.Name))
		}
		seen[r.Name] = true
		d.Regions = append(d.Regions, dirRegion{
			Name: r.Name, Base: hexAddr(r.Base), Size: hexAddr(r.Size),
			Perm: r.Perm.String(), File: r.Name + ".bin", Compared: r.Compared,
		})
	}
	for _, s := range im.Symbols {
		d.Symbols = append(d.Symbols, dirSymbol{s.Name, hexAddr(s.Start), hexAddr(s.End), s.Region, s.Step})
	}
	for _, e := range im.Events {
		d.Events = append(d.Events, dirEvent{e.Name, hexAddr(e.Addr)})
	}
	for _, s := range im.Steps {
		d.Steps = append(d.Steps, dirStep(s))
	}
	for _, a := range im.InstStarts {
		d.Insts = append(d.Insts, hexAddr(a))
	}
	js, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fail(err)
	}

	dir = filepath.Clean(dir)
	replace, err := replaceable(dir)
	if err != nil {
		return fail(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fail(err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	for i, r := range im.Regions {
		if err := writeFile(filepath.Join(tmp, d.Regions[i].File), r.Init, 0o644); err != nil {
			return fail(err)
		}
	}
	if err := writeFile(filepath.Join(tmp, ImageJSON), append(js, '\n'), 0o644); err != nil {
		return fail(err)
	}
	// MkdirTemp makes the directory private; an output directory is not.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fail(err)
	}
	if !replace {
		if err := os.Rename(tmp, dir); err != nil {
			return fail(err)
		}
		return nil
	}
	// Move the old directory aside first: rename cannot replace a non-empty
	// directory. If the second rename fails, put the old one back.
	aside := tmp + ".old"
	if err := os.Rename(dir, aside); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.Rename(aside, dir)
		return fail(err)
	}
	os.RemoveAll(aside)
	return nil
}

// replaceable reports whether dir exists and may be replaced, and refuses
// anything that is not an empty or image directory.
func replaceable(dir string) (bool, error) {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !fi.IsDir() {
		return false, fmt.Errorf("%s exists and is not a directory", dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	if len(ents) == 0 {
		return true, nil
	}
	if _, err := os.Stat(filepath.Join(dir, ImageJSON)); err != nil {
		return false, fmt.Errorf("%s exists and is not an image directory (no %s); refusing to replace it", dir, ImageJSON)
	}
	return true, nil
}

// ReadDir reads an image directory written by WriteDir and validates it.
// Errors name the offending file.
func ReadDir(dir string) (*Image, error) {
	jsPath := filepath.Join(dir, ImageJSON)
	js, err := os.ReadFile(jsPath)
	if err != nil {
		return nil, err
	}
	var d dirImage
	if err := json.Unmarshal(js, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", jsPath, err)
	}
	if d.Format != imageDirFormat {
		return nil, fmt.Errorf("%s: format %d, this osrsim reads format %d", jsPath, d.Format, imageDirFormat)
	}
	im := &Image{Entry: uint64(d.Entry), Arg: uint64(d.Arg)}
	for _, r := range d.Regions {
		perm, err := parsePerm(r.Perm)
		if err != nil {
			return nil, fmt.Errorf("%s: region %s: %w", jsPath, r.Name, err)
		}
		// A file name, never a path: image.json must not reach outside dir.
		if r.File == "" || r.File != filepath.Base(r.File) || r.File == "." || r.File == ".." {
			return nil, fmt.Errorf("%s: region %s: file %q is not a plain file name", jsPath, r.Name, r.File)
		}
		init, err := os.ReadFile(filepath.Join(dir, r.File))
		if err != nil {
			return nil, fmt.Errorf("%s: region %s: %w", jsPath, r.Name, err)
		}
		if len(init) == 0 {
			init = nil
		}
		im.Regions = append(im.Regions, Region{
			Name: r.Name, Base: uint64(r.Base), Size: uint64(r.Size),
			Perm: perm, Init: init, Compared: r.Compared,
		})
	}
	for _, s := range d.Symbols {
		im.Symbols = append(im.Symbols, Symbol{s.Name, uint64(s.Start), uint64(s.End), region.Meta{Region: s.Region, Step: s.Step}})
	}
	for _, e := range d.Events {
		im.Events = append(im.Events, Event{e.Name, uint64(e.Addr)})
	}
	for _, s := range d.Steps {
		im.Steps = append(im.Steps, region.Step(s))
	}
	for _, a := range d.Insts {
		im.InstStarts = append(im.InstStarts, uint64(a))
	}
	if err := im.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", jsPath, err)
	}
	return im, nil
}

// parsePerm is the inverse of Perm.String.
func parsePerm(s string) (Perm, error) {
	if len(s) != 3 {
		return 0, fmt.Errorf("perm %q: want three characters like \"r-x\"", s)
	}
	var p Perm
	for i, bit := range []Perm{PermR, PermW, PermX} {
		switch s[i] {
		case "rwx"[i]:
			p |= bit
		case '-':
		default:
			return 0, fmt.Errorf("perm %q: want three characters like \"r-x\"", s)
		}
	}
	return p, nil
}
