//go:build linux && amd64 && cgo

package native

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/osrsim/osrsim/sim"
)

// childReply is what the child writes to stdout.
type childReply struct {
	Result *Result `json:"result,omitempty"`
	Error  string  `json:"error,omitempty"`
}

// RunInChild runs the image like Load and Run, but in a child process (this
// executable re-executed, see ChildMain), so a fault in generated code
// becomes a *CrashError naming the signal instead of killing the caller.
// Options.Timeout, if set, bounds the child; closing Options.Done kills it
// and returns sim.ErrCanceled. The child never outlives this process, even
// one killed with SIGKILL: it gets SIGKILL when its parent dies.
//
// Precondition: in normal use the image completed cleanly under emulation
// (DESIGN principle 5); random or fuzzed images go through here, never
// through Run.
func RunInChild(im *sim.Image, opt Options) (*Result, error) {
	if _, err := opt.withDefaults(); err != nil {
		return nil, err
	}
	// A child that reaches here was not intercepted by ChildMain: stop
	// rather than re-execute ourselves without end.
	if os.Getenv(envChild) != "" {
		return nil, errors.New("native: RunInChild inside a native child: call native.ChildMain first thing in main/TestMain")
	}
	if sim.Closed(opt.Done) {
		return nil, sim.ErrCanceled
	}
	// The child gets a private copy of the image and deletes it once read
	// (childRun), so that a parent killed outright leaves nothing behind
	// while its child runs; this removal covers a child that never read it.
	dir, err := os.MkdirTemp("", "osrsim-native-")
	if err != nil {
		return nil, fmt.Errorf("native: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := sim.WriteDir(im, dir); err != nil {
		return nil, fmt.Errorf("native: %w", err)
	}
	optJSON, err := json.Marshal(opt)
	if err != nil {
		return nil, fmt.Errorf("native: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("native: re-exec: %w", err)
	}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	if opt.Done != nil {
		go func() {
			select {
			case <-opt.Done:
				stop()
			case <-ctx.Done():
			}
		}()
	}
	if opt.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opt.Timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, exe) // SIGKILL on timeout or Done
	cmd.Env = append(os.Environ(), envChild+"="+dir, envOptions+"="+string(optJSON), envParent+"="+strconv.Itoa(os.Getpid()))
	// Go's fork sets the parent-death signal and then checks getppid, so a
	// parent that dies even before prctl took effect still kills the
	// child; ChildMain checks again.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// The parent-death signal fires when the forking thread exits, not the
	// process (golang/go#27505): stay on that thread until the child ends.
	runtime.LockOSThread()
	runErr := cmd.Run()
	runtime.UnlockOSThread()
	tail := tailLines(stderr.String(), 30, 4096)

	if sim.Closed(opt.Done) {
		return nil, sim.ErrCanceled
	}
	if ctx.Err() == context.DeadlineExceeded {
		return nil, &CrashError{TimedOut: true, Timeout: opt.Timeout, Stderr: tail}
	}
	var exitErr *exec.ExitError
	if errors.As(runErr, &exitErr) {
		// Go's runtime reports a fault in non-Go code and exits 2; its report
		// says where, so it is preferred over the bare signal (which is what
		// we see if GOTRACEBACK=crash, or if the kernel killed the child).
		if ce := parseGoFault(stderr.String(), im); ce != nil {
			return nil, ce
		}
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return nil, &CrashError{Signal: signalName(ws.Signal()), Stderr: tail}
		}
	} else if runErr != nil {
		return nil, fmt.Errorf("native: re-exec %s: %w", exe, runErr)
	}
	var rep childReply
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil || (rep.Result == nil && rep.Error == "") {
		return nil, fmt.Errorf("native: child %s did not run the native engine (%v; is native.ChildMain called first in main?)\nchild stderr:\n%s", exe, runErr, tail)
	}
	if rep.Error != "" {
		return nil, fmt.Errorf("native child: %s", rep.Error)
	}
	return rep.Result, nil
}

// Go's report of a fatal signal in non-Go code starts with e.g.
//
//	SIGSEGV: segmentation violation
//	PC=0x500000048 m=0 sigcode=1 addr=0x600000000
//	signal arrived during cgo execution
var (
	goFaultRe = regexp.MustCompile(`(?m)^(SIG[A-Z0-9]+): .*\nPC=(0x[0-9a-f]+)(.*)`)
	goAddrRe  = regexp.MustCompile(`addr=(0x[0-9a-f]+)`)
	goRegRe   = regexp.MustCompile(`(?m)^(r[a-z0-9]+|cs|fs|gs) +0x[0-9a-f]+$`)
)

// parseGoFault turns Go's fault report into a CrashError whose Stderr keeps
// the report's header and the register dump, not the goroutine traces.

func parseGoFault(stderr string, im *sim.Image) *CrashError {
	loc := goFaultRe.FindStringSubmatchIndex(stderr)
	if loc == nil {
		return nil
	}
	m := goFaultRe.FindStringSubmatch(stderr)
	header, _, _ := strings.Cut(stderr[loc[0]:], "\n\n")
	regs := goRegRe.FindAllString(stderr, -1)
	ce := &CrashError{Signal: m[1], Stderr: strings.Join(append([]string{header}, regs...), "\n")}
	ce.PC, _ = strconv.ParseUint(m[2][2:], 16, 64)
	if a := goAddrRe.FindStringSubmatch(m[3]); a != nil {
		ce.Addr, _ = strconv.ParseUint(a[1][2:], 16, 64)
		ce.HasAddr = true
	}
	if name, off := im.SymbolAt(ce.PC); name != "" {
		ce.Symbol = fmt.Sprintf("%s+%#x", name, off)
	}
	return ce
}

// ChildMain does the child's work and exits if this process is a native
// child started by RunInChild; otherwise it returns at once. Call it first
// thing in main (cmd/osrsim) and in TestMain of any package whose tests use
// RunInChild, since the child is this same executable.
func ChildMain() {
	dir := os.Getenv(envChild)
	if dir == "" {
		return
	}
	// Ctrl-C and a SIGTERM to the process group reach the child too; the
	// parent stops it (and then cleans up), so a signal never looks like a
	// crash of the generated code.
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM)
	if err := checkParent(); err != nil {
		fmt.Fprintln(os.Stderr, "native child:", err)
		os.Exit(1)
	}
	res, err := childRun(dir, os.Getenv(envOptions))
	rep := childReply{Result: res}
	code := 0
	if err != nil {
		rep, code = childReply{Error: err.Error()}, 1
	}
	json.NewEncoder(os.Stdout).Encode(rep)
	os.Exit(code)
}

// checkParent makes sure the process that started this child is still its
// parent: if it died before the parent-death signal was armed, nothing
// else would stop the child.
func checkParent() error {
	want := os.Getenv(envParent)
	if want == "" {
		return fmt.Errorf("%s is not set: a native child is started by RunInChild", envParent)
	}
	if got := strconv.Itoa(os.Getppid()); got != want {
		return fmt.Errorf("parent %s is gone (parent is now %s); not running", want, got)
	}
	return nil
}

func childRun(dir, optJSON string) (*Result, error) {
	var opt Options
	if err := json.Unmarshal([]byte(optJSON), &opt); err != nil {
		return nil, fmt.Errorf("%s: %w", envOptions, err)
	}
	if opt.PinCPU != nil {
		var set unix.CPUSet
		set.Set(*opt.PinCPU)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			return nil, fmt.Errorf("pin to CPU %d: %w", *opt.PinCPU, err)
		}
	}
	im, err := sim.ReadDir(dir)
	os.RemoveAll(dir) // the parent's private copy, see RunInChild
	if err != nil {
		return nil, err
	}
	l, err := Load(im)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	// A crash is an expected outcome here: no core file even under
	// GOTRACEBACK=crash. Go's own handler stays in place (we install none):
	// it reports the signal, PC and fault address, which the parent parses.
	syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
	return l.Run(opt)
}

func tailLines(s string, lines, max int) string {
	s = strings.TrimRight(s, "\n")
	if len(s) > max {
		s = s[len(s)-max:]
	}
	if l := strings.Split(s, "\n"); len(l) > lines {
		s = strings.Join(l[len(l)-lines:], "\n")
	}
	return s
}

var signalNames = map[syscall.Signal]string{
	syscall.SIGSEGV: "SIGSEGV", syscall.SIGILL: "SIGILL", syscall.SIGBUS: "SIGBUS",
	syscall.SIGFPE: "SIGFPE", syscall.SIGTRAP: "SIGTRAP", syscall.SIGABRT: "SIGABRT",
	syscall.SIGKILL: "SIGKILL", syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT",
	syscall.SIGSYS: "SIGSYS", syscall.SIGXCPU: "SIGXCPU",
}

func signalName(s syscall.Signal) string {
	if n, ok := signalNames[s]; ok {
		return n
	}
	return fmt.Sprintf("signal %d (%v)", int(s), s)
}
