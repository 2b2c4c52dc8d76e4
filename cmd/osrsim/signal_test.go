//go:build linux && amd64 && cgo

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// slowNative is an experiment whose native child runs far longer than the
// tests wait (2·10^9 resumptions through the helper); its emulated scale
// is small, so the native phase starts within a second or so.
const slowNative = `name: slow
strategies: [helper]
engines: [native]
workloads:
  await-loop:
    n: 2000000000
    awaits: 2000000000
    emulation:
      n: 20000
      awaits: 100
native:
  samples: 1
  launches: 1
  timeout: 10m
cycle_model: none
`

// markerEnv tags every process of one test's osrsim (children inherit it),
// so /proc tells them apart from everything else on the machine.
const markerEnv = "OSRSIM_TEST_MARKER"

// marked lists the live (not zombie) processes whose environment holds
// markerEnv=marker, and which of them are native children.
func marked(marker string) (all, children []int) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue // gone, or a zombie
		}
		vars := strings.Split(string(env), "\x00")
		if !contains(vars, markerEnv+"="+marker) || zombie(pid) {
			continue
		}
		all = append(all, pid)
		for _, v := range vars {
			if strings.HasPrefix(v, "OSRSIM_NATIVE_CHILD=") {
				children = append(children, pid)
			}
		}
	}
	return all, children
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func zombie(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// pid (comm) state ...; comm may hold spaces and parentheses.
	rest := stat[bytes.LastIndexByte(stat, ')')+1:]
	f := strings.Fields(string(rest))
	return len(f) == 0 || f[0] == "Z" || f[0] == "X"
}

// waitFor polls cond for up to d.
func waitFor(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

// built is osrsim, built once for the tests that run it as a process.
var built struct {
	once sync.Once
	path string
	err  error
}

func osrsimBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "osrsim-test-bin-")
		if err != nil {
			built.err = err
			return
		}
		atExit = append(atExit, func() { os.RemoveAll(dir) })
		built.path = filepath.Join(dir, "osrsim")
		// go test puts its own go first on PATH.
		if out, err := exec.Command("go", "build", "-o", built.path, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// slowRun is an osrsim process running the slow native experiment, with
// its own TMPDIR and process group.
type slowRun struct {
	cmd            *exec.Cmd
	stderr         bytes.Buffer
	marker         string
	tmpDir, outDir string
}

func startSlowRun(t *testing.T, name string) *slowRun {
	t.Helper()
	dir := t.TempDir()
	r := &slowRun{marker: fmt.Sprintf("%d-%s", os.Getpid(), name), tmpDir: filepath.Join(dir, "tmp"), outDir: filepath.Join(dir, "out")}
	if err := os.Mkdir(r.tmpDir, 0o700); err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command(osrsimBinary(t), "run", writeFile(t, dir, "slow.yaml", slowNative), "--quiet", "--out", r.outDir)
	r.cmd.Env = append(os.Environ(), "TMPDIR="+r.tmpDir, markerEnv+"="+r.marker)
	r.cmd.Stderr = &r.stderr
	// Its own process group, so the test can signal it as a terminal
	// signals a foreground job.
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
		r.cmd.Wait()
	})
	// Running: the child has read (and so deleted) its copy of the image.
	running := func() bool {
		_, c := marked(r.marker)
		ents, _ := os.ReadDir(r.tmpDir)
		return len(c) > 0 && len(ents) == 0
	}
	if !waitFor(60*time.Second, running) {
		t.Fatalf("no native child running within a minute; stderr:\n%s", &r.stderr)
	}
	return r
}

// wait waits for osrsim to end and returns its exit status.
func (r *slowRun) wait(t *testing.T) syscall.WaitStatus {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("osrsim did not end within 30s of the signal; stderr:\n%s", &r.stderr)
	}
	return r.cmd.ProcessState.Sys().(syscall.WaitStatus)
}

// leftovers checks that no process of the run survives and that it left
// nothing in its TMPDIR or --out.
func (r *slowRun) leftovers(t *testing.T) {
	t.Helper()
	if !waitFor(10*time.Second, func() bool { all, _ := marked(r.marker); return len(all) == 0 }) {
		all, _ := marked(r.marker)
		t.Errorf("processes %v outlived osrsim", all)
	}
	if ents, _ := os.ReadDir(r.tmpDir); len(ents) > 0 {
		t.Errorf("left in TMPDIR: %v", ents)
	}
	if _, err := os.Stat(r.outDir); !os.IsNotExist(err) {
		t.Errorf("--out %s was written (%v)", r.outDir, err)
	}
}

// SIGINT to the process group (Ctrl-C) and SIGTERM to osrsim alone stop a
// native run: osrsim says so, exits 128+signal, stops its child, removes
// its temporary files and writes nothing.
func TestSignalStopsNativeRun(t *testing.T) {
	for _, tc := range []struct {
		sig   syscall.Signal
		group bool // to the whole process group, as a terminal's Ctrl-C
		code  int
	}{
		{syscall.SIGINT, true, 130},
		{syscall.SIGTERM, false, 143},
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			r := startSlowRun(t, tc.sig.String())
			pid := r.cmd.Process.Pid
			if tc.group {
				pid = -pid
			}
			if err := syscall.Kill(pid, tc.sig); err != nil {
				t.Fatal(err)
			}
			ws := r.wait(t)
			if ws.ExitStatus() != tc.code {
				t.Errorf("exit status %v, want exit %d", ws, tc.code)
			}
			if !strings.Contains(r.stderr.String(), "osrsim: interrupted; nothing written") {
				t.Errorf("stderr lacks the interrupt message:\n%s", &r.stderr)
			}
			r.leftovers(t)
		})
	}
}

// A native child dies with its parent even when the parent is killed with
// SIGKILL and can clean up nothing; the child had already deleted its copy
// of the image.
func TestNativeChildDiesWithKilledParent(t *testing.T) {
	// The orphaned child becomes this process's child, so the test can
	// see how it ended (and reap it).
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	r := startSlowRun(t, "SIGKILL")
	_, children := marked(r.marker)
	if err := syscall.Kill(r.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if ws := r.wait(t); ws.Signal() != syscall.SIGKILL {
		t.Fatalf("osrsim ended with %v, want killed", ws)
	}
	for _, pid := range children {
		ended := make(chan unix.WaitStatus, 1)
		go func() {
			var ws unix.WaitStatus
			unix.Wait4(pid, &ws, 0, nil)
			ended <- ws
		}()
		select {
		case ws := <-ended:
			if !ws.Signaled() || ws.Signal() != unix.SIGKILL {
				t.Errorf("native child %d ended with %v, want the parent-death SIGKILL", pid, ws)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("native child %d outlived its killed parent by 10s", pid)
		}
	}
	r.leftovers(t)
}
