package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// writeHook, when set (tests), is called before each file is written into
// the temporary directory and can make the write fail.
var writeHook func(name string) error

// JSON renders the report as indented JSON with a trailing newline.
func JSON(r *Report) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("report: encoding report.json: %w", err)
	}
	return append(b, '\n'), nil
}

// Files renders every output file of the report: report.json, report.md,
// report.csv, report.bench (Go benchmark format, see Bench) and the plots
// (see Plots), in that order.
func Files(r *Report) ([]File, error) {
	js, err := JSON(r)
	if err != nil {
		return nil, err
	}
	cs, err := CSV(r)
	if err != nil {
		return nil, fmt.Errorf("report: report.csv: %w", err)
	}
	bench, err := Bench(r)
	if err != nil {
		return nil, err
	}
	files := []File{
		{"report.json", js},
		{"report.md", []byte(Markdown(r))},
		{"report.csv", cs},
		{"report.bench", bench},
	}
	plots, err := Plots(r)
	if err != nil {
		return nil, err
	}
	return append(files, plots...), nil
}

// WriteDir writes report.json, report.md, report.csv, report.bench and the plots into
// dir and returns their paths (dir joined with each name, sorted).
//
// It is all or nothing: every file is rendered and written, and synced,
// into a fresh temporary directory next to dir (same parent, so the
// rename stays on one file system), which is then renamed to dir. When
// dir already exists it must be a directory that is either empty or holds
// a previous report (a report.json): that directory is then replaced as a
// whole (its other files go with it; a brief moment between the two
// renames has no dir, and if the second rename fails the old directory is
// put back). A non-empty directory without report.json is refused with an
// error and left untouched, so user files are never deleted. On any error
// no temporary directory or partial file is left behind; a parent that
// cannot be written gives an error naming it.
func WriteDir(r *Report, dir string) (files []string, err error) {
	if dir == "" {
		return nil, errors.New("report: no output directory given")
	}
	dir = filepath.Clean(dir)
	parent := filepath.Dir(dir)
	base := filepath.Base(dir)

	exists := false
	switch fi, err := os.Stat(dir); {
	case err == nil && !fi.IsDir():
		return nil, fmt.Errorf("report: %s exists and is not a directory", dir)
	case err == nil:
		exists = true
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("report: reading %s: %w", dir, err)
		}
		if len(ents) > 0 {
			if _, err := os.Stat(filepath.Join(dir, "report.json")); err != nil {
				return nil, fmt.Errorf("report: %s is not empty and holds no previous report.json; refusing to replace it", dir)
			}
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("report: output directory %s: %w", dir, err)
	}
	if fi, err := os.Stat(parent); err != nil {
		return nil, fmt.Errorf("report: parent directory %s of %s: %w", parent, dir, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("report: parent %s of %s is not a directory", parent, dir)
	}

	out, err := Files(r)
	if err != nil {
		return nil, err
	}

	tmp, err := os.MkdirTemp(parent, "."+base+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("report: cannot write in directory %s: %w", parent, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	for _, f := range out {
		if writeHook != nil {
			if err := writeHook(f.Name); err != nil {
				return nil, fmt.Errorf("report: writing %s: %w", f.Name, err)
			}
		}
		if err := writeFileSync(filepath.Join(tmp, f.Name), f.Data); err != nil {
			return nil, fmt.Errorf("report: writing %s: %w", f.Name, err)
		}
		files = append(files, filepath.Join(dir, f.Name))
	}
	if err := syncDir(tmp); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}

	if !exists {
		if err := os.Rename(tmp, dir); err != nil {
			return nil, fmt.Errorf("report: moving the report into %s: %w", dir, err)
		}
	} else {
		// A fresh name: tmp's random suffix is ours alone.
		old := tmp + ".old"
		if _, err := os.Lstat(old); err == nil {
			return nil, fmt.Errorf("report: %s exists; remove it", old)
		}
		if err := os.Rename(dir, old); err != nil {
			return nil, fmt.Errorf("report: moving the previous report in %s aside: %w", dir, err)
		}
		if err := os.Rename(tmp, dir); err != nil {
			if rerr := os.Rename(old, dir); rerr != nil {
				return nil, fmt.Errorf("report: moving the report into %s: %w (and restoring the previous one from %s: %v)", dir, err, old, rerr)
			}
			return nil, fmt.Errorf("report: moving the report into %s: %w", dir, err)
		}
		if err := os.RemoveAll(old); err != nil {
			return nil, fmt.Errorf("report: removing the previous report %s: %w", old, err)
		}
	}
	_ = syncDir(parent)
	sort.Strings(files)
	return files, nil
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ReadJSON reads a report.json. Unknown fields are ignored (newer
// writers may add fields).
func ReadJSON(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("report: %s: %w", path, err)
	}
	return &r, nil
}
