package sim

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/region"
)

func testImage() *Image {
	code := []byte{0x48, 0x89, 0xf8, 0xc3} // mov %rdi,%rax; ret
	return &Image{
		Regions: []Region{
			{Name: RegionCode, Base: CodeBase, Size: PageSize, Perm: PermR | PermX, Init: code},
			{Name: RegionData, Base: DataBase, Size: 2 * PageSize, Perm: PermR | PermW, Init: []byte{1, 2, 3}, Compared: true},
			{Name: RegionHost, Base: HostBase, Size: HostSize, Perm: PermR | PermW},
		},
		Symbols: []Symbol{
			{"entry", CodeBase, CodeBase + 4, region.Meta{Region: region.Runtime, Step: "move"}},
			{"entry.ret", CodeBase + 3, CodeBase + 4, region.Meta{Region: region.Runtime}},
		},
		InstStarts: []uint64{CodeBase, CodeBase + 3},
		Events:     []Event{{"entry", CodeBase}},
		Steps:      region.Catalogue{{Region: region.Runtime, Name: "move", Doc: "moves the argument"}},
		Entry:      CodeBase,
		Arg:        42,
	}
}

func TestImageDirRoundTrip(t *testing.T) {
	im := testImage()
	dir := filepath.Join(t.TempDir(), "img")
	if err := WriteDir(im, dir); err != nil {
		t.Fatal(err)
	}
	got, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, im) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, im)
	}
	js, _ := os.ReadFile(filepath.Join(dir, ImageJSON))
	for _, want := range []string{`"base": "0x500000000"`, `"perm": "r-x"`, `"file": "code.bin"`, `"arg": "0x2a"`,
		`"region": "runtime",
      "step": "move"`, `"doc": "moves the argument"`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("image.json lacks %s:\n%s", want, js)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "host.bin")); len(b) != 0 {
		t.Errorf("host.bin has %d bytes, want 0", len(b))
	}

	// Writing again replaces the image directory.
	im.Arg = 7
	if err := WriteDir(im, dir); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadDir(dir); err != nil || got.Arg != 7 {
		t.Fatalf("rewrite: %v, %+v", err, got)
	}
	assertOnly(t, filepath.Dir(dir), "img")
}

// assertOnly checks that parent holds exactly the named entries (no temp
// directories left behind).
func assertOnly(t *testing.T, parent string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if !reflect.DeepEqual(got, names) && !(len(got) == 0 && len(names) == 0) {
		t.Fatalf("%s holds %v, want %v", parent, got, names)
	}
}

func TestImageDirWriteFailsCleanly(t *testing.T) {
	im := testImage()

	t.Run("parent is a file", func(t *testing.T) {
		parent := t.TempDir()
		f := filepath.Join(parent, "f")
		os.WriteFile(f, nil, 0o644)
		if err := WriteDir(im, filepath.Join(f, "img")); err == nil {
			t.Fatal("no error")
		}
		assertOnly(t, parent, "f")
	})

	t.Run("unwritable parent", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root ignores directory permissions")
		}
		parent := t.TempDir()
		os.Chmod(parent, 0o555)
		defer os.Chmod(parent, 0o755)
		if err := WriteDir(im, filepath.Join(parent, "img")); err == nil {
			t.Fatal("no error")
		}
		assertOnly(t, parent)
	})

	t.Run("write fails halfway", func(t *testing.T) {
		parent := t.TempDir()
		dir := filepath.Join(parent, "img")
		if err := WriteDir(im, dir); err != nil {
			t.Fatal(err)
		}
		n := 0
		writeFile = func(name string, b []byte, perm os.FileMode) error {
			if n++; n == 2 {
				return errors.New("disk full")
			}
			return os.WriteFile(name, b, perm)
		}
		defer func() { writeFile = os.WriteFile }()
		im2 := testImage()
		im2.Arg = 99
		if err := WriteDir(im2, dir); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("err = %v", err)
		}
		assertOnly(t, parent, "img")
		if got, err := ReadDir(dir); err != nil || got.Arg != 42 {
			t.Fatalf("old image damaged: %v %+v", err, got)
		}
	})

	t.Run("refuses to replace a non-image directory", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "precious.txt"), []byte("x"), 0o644)
		if err := WriteDir(im, dir); err == nil || !strings.Contains(err.Error(), "not an image directory") {
			t.Fatalf("err = %v", err)
		}
		assertOnly(t, dir, "precious.txt")
	})

	t.Run("invalid image", func(t *testing.T) {
		parent := t.TempDir()
		bad := testImage()
		bad.Regions[0].Perm |= PermW
		if err := WriteDir(bad, filepath.Join(parent, "img")); err == nil {
			t.Fatal("no error")
		}
		assertOnly(t, parent)
	})
}

func TestImageDirReadErrorsNameTheFile(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		edit       func(dir string)
	}{
		{"corrupt json", "image.json", func(dir string) {
			os.WriteFile(filepath.Join(dir, ImageJSON), []byte(`{"format": 1, "regions": [`), 0o644)
		}},
		{"decimal address", `want a hex string`, func(dir string) {
			editJSON(dir, `"entry": "0x500000000"`, `"entry": 21474836480`)
		}},
		{"bad perm", `perm "rxw"`, func(dir string) { editJSON(dir, `"r-x"`, `"rxw"`) }},
		{"missing region file", "data.bin", func(dir string) { os.Remove(filepath.Join(dir, "data.bin")) }},
		{"path as file", "not a plain file name", func(dir string) { editJSON(dir, `"code.bin"`, `"../code.bin"`) }},
		{"oversized init", "region data", func(dir string) {
			os.WriteFile(filepath.Join(dir, "data.bin"), make([]byte, 3*PageSize), 0o644)
		}},
		{"format", "format 9", func(dir string) { editJSON(dir, `"format": 1`, `"format": 9`) }},
		{"undeclared step", `step "mov" is not declared`, func(dir string) { editJSON(dir, `"step": "move"`, `"step": "mov"`) }},
		{"step of another region", `belongs to region "runtime", not "helper"`, func(dir string) {
			editJSON(dir, `"region": "runtime",
      "step"`, `"region": "helper",
      "step"`)
		}},
		{"unknown region", `unknown region "jit"`, func(dir string) {
			editJSON(dir, `"region": "runtime"
    }`, `"region": "jit"
    }`)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "img")
			if err := WriteDir(testImage(), dir); err != nil {
				t.Fatal(err)
			}
			tc.edit(dir)
			_, err := ReadDir(dir)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("error %q should name %q and the directory", err, tc.want)
			}
		})
	}
}

func editJSON(dir, old, new string) {
	p := filepath.Join(dir, ImageJSON)
	b, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
}
