package ci

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// lines returns the logical lines of a shell script or Dockerfile: comments
// dropped, backslash continuations joined.
func lines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasSuffix(l, `\`) {
			cur.WriteString(strings.TrimSuffix(l, `\`) + " ")
			continue
		}
		cur.WriteString(l)
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// makeTargets returns the make targets invoked in cmd, in order: the words
// after each `make` that are neither options nor VAR=value assignments.
func makeTargets(cmd string) []string {
	var out []string
	for _, part := range regexp.MustCompile(`&&|\|\||;|\|`).Split(cmd, -1) {
		w := strings.Fields(part)
		for len(w) > 0 && (strings.Contains(w[0], "=") || w[0] == "exec" || w[0] == "time") {
			w = w[1:] // env assignments, exec, time
		}
		if len(w) == 0 || (w[0] != "make" && w[0] != "$(MAKE)") {
			continue
		}
		for _, a := range w[1:] {
			if strings.HasPrefix(a, "-") || strings.Contains(a, "=") {
				continue
			}
			out = append(out, a)
		}
	}
	return out
}

// ciTargets are the make targets .ci/run runs.
func ciTargets(t *testing.T) []string {
	var out []string
	for _, l := range lines(t, "../.ci/run") {
		out = append(out, makeTargets(l)...)
	}
	if len(out) == 0 {
		t.Fatal(".ci/run runs no make target")
	}
	return out
}

// dockerfile is the parsed Dockerfile: its stages and every instruction.
type dockerfile struct {
	stages []stage
	instr  []string // every instruction line
}

// stage is one FROM of the Dockerfile.
type stage struct {
	from, name string
	make       []string // make targets of its RUN instructions
	run        []string // its RUN instructions
}

func parseDockerfile(t *testing.T) dockerfile {
	var d dockerfile
	for _, l := range lines(t, "../Dockerfile") {
		d.instr = append(d.instr, l)
		kw, rest, _ := strings.Cut(l, " ")
		switch strings.ToUpper(kw) {
		case "FROM":
			f := strings.Fields(rest)
			st := stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			d.stages = append(d.stages, st)
		case "RUN":
			if len(d.stages) == 0 {
				t.Fatal("Dockerfile: RUN before FROM")
			}
			st := &d.stages[len(d.stages)-1]
			st.make = append(st.make, makeTargets(rest)...)
			st.run = append(st.run, rest)
		}
	}
	return d
}

// stageNames are the stages the Dockerfile must have, in order: build and
// test, the runtime image, and the runtime image checking itself.
var stageNames = []string{"build", "runtime", "check"}

// makefileTargets are the targets the Makefile defines.
func makefileTargets(t *testing.T) map[string]bool {
	data, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([A-Za-z0-9_.-]+(?:[ \t]+[A-Za-z0-9_.-]+)*)[ \t]*:([^=]|$)`).FindAllStringSubmatch(string(data), -1) {
		for _, name := range strings.Fields(m[1]) {
			out[name] = true
		}
	}
	return out
}

// The Dockerfile's build stage runs every make target .ci/run runs before
// the image's own (docker-*), in the same order (then build), so that the
// image is built only from a tree that passes CI; .ci/run then builds the
// image with docker-test.
func TestDockerfileRunsCITargets(t *testing.T) {
	ci := ciTargets(t)
	d := parseDockerfile(t)
	var names []string
	for _, st := range d.stages {
		names = append(names, st.name)
	}
	if !slices.Equal(names, stageNames) {
		t.Fatalf("Dockerfile stages %q, want %q", names, stageNames)
	}
	if last := ci[len(ci)-1]; last != "docker-test" {
		t.Errorf(".ci/run ends with make %s, want make docker-test", last)
	}
	var before []string
	for _, tg := range ci {
		if !strings.HasPrefix(tg, "docker") {
			before = append(before, tg)
		}
	}
	build := d.stages[0].make
	i := 0
	for _, tg := range build {
		if i < len(before) && tg == before[i] {
			i++
		}
	}
	if i < len(before) {
		t.Errorf("the Dockerfile's build stage runs make %v; .ci/run runs make %v: add `RUN make %s` in that order", build, before, before[i])
	}
	if !slices.Contains(build, "build") {
		t.Errorf("the Dockerfile's build stage does not run make build: %v", build)
	}
	for _, st := range d.stages[1:] {
		if len(st.make) != 0 {
			t.Errorf("stage %s runs make %v; it has no sources", st.name, st.make)
		}
	}
	known := makefileTargets(t)
	for _, tg := range append(append([]string{}, ci...), build...) {
		if !known[tg] {
			t.Errorf("make target %q (in .ci/run or the Dockerfile) is not in the Makefile", tg)
		}
	}
	for _, tg := range []string{"docker", "docker-test", "docker-check", "check-baselines", "update-baselines"} {
		if !known[tg] {
			t.Errorf("the Makefile has no %s target", tg)
		}
	}
}

// The last stage is the runtime image checking itself: its osrsim has the
// version the build was given and passes check on every baked-in baseline.
// docker-test builds it with the commit as the version.
func TestDockerfileChecksItself(t *testing.T) {
	d := parseDockerfile(t)
	check := d.stages[len(d.stages)-1]
	if check.from != "runtime" {
		t.Errorf("the check stage starts FROM %s, want the runtime stage", check.from)
	}
	run := strings.Join(check.run, "\n")
	for _, want := range []string{
		`test "$(osrsim version | head -n 1)" = "osrsim $VERSION"`,
		`for b in results/baselines/*.json`,
		`osrsim check --baseline "$b" "experiments/$name.yaml"`,
		`exit $worst`,
	} {
		if !strings.Contains(run, want) {
			t.Errorf("the check stage lacks %q", want)
		}
	}
	if !slices.Contains(d.instr, "ARG VERSION=dev") {
		t.Errorf("the Dockerfile declares no VERSION build argument")
	}
	mk, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--build-arg VERSION=$(VERSION)", "dev|\"\") echo \"docker-test: no git commit"} {
		if !strings.Contains(string(mk), want) {
			t.Errorf("the Makefile lacks %q", want)
		}
	}
}

// The runtime image holds the binary, the configs and the baselines, and
// its default command checks a baseline that exists in the tree.
func TestDockerfileRuntime(t *testing.T) {
	d := parseDockerfile(t)
	text := strings.Join(d.instr, "\n")
	for _, want := range []string{
		"FROM golang:1.26-bookworm AS build",
		"FROM debian:bookworm-slim AS runtime",
		"libunicorn-dev",
		"libunicorn2",
		"COPY --from=build /src/bin/osrsim /usr/local/bin/osrsim",
		"COPY --from=build /src/experiments/ /osrsim/experiments/",
		"COPY --from=build /src/results/baselines/ /osrsim/results/baselines/",
		`ENTRYPOINT ["osrsim"]`,
		`CMD ["check", "--baseline", "/osrsim/results/baselines/seed.json"]`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if _, err := os.Stat("../results/baselines/seed.json"); err != nil {
		t.Errorf("the default command's baseline: %v", err)
	}
	// The build context keeps the baselines and the configs.
	ign := lines(t, "../.dockerignore")
	if !slices.Contains(ign, "!results/baselines") {
		t.Errorf(".dockerignore does not keep results/baselines: %q", ign)
	}
	for _, l := range ign {
		if m, _ := filepath.Match(l, "experiments"); m || l == "experiments" || l == "*" {
			t.Errorf(".dockerignore excludes the experiment configs: %q", l)
		}
	}
}

// The sample workflow runs .ci/run (so it cannot drift from it), leaving
// the image to a job with Docker, which builds and runs it.
func TestWorkflow(t *testing.T) {
	data, err := os.ReadFile("github-workflow.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"run: ./.ci/run", "OSRSIM_DOCKER_TEST: \"0\"", "make docker-test IMAGE=osrsim:ci", "make docker-check IMAGE=osrsim:ci", "docker run --rm osrsim:ci"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("github-workflow.yml lacks %q", want)
		}
	}
}

func TestMakeTargets(t *testing.T) {
	for cmd, want := range map[string][]string{
		`make test`:                                   {"test"},
		`make test VERSION="$VERSION"`:                {"test"},
		`cd x && make -j2 test check-baselines`:       {"test", "check-baselines"},
		`GOFLAGS=-mod=mod make vet; echo make`:        {"vet"},
		`apt-get install -y make && make build`:       {"build"},
		`./bin/osrsim check --baseline x.json a.yaml`: nil,
		`[ "${X:-1}" = 0 ] || make docker-test`:       {"docker-test"},
	} {
		if got := makeTargets(cmd); !slices.Equal(got, want) {
			t.Errorf("makeTargets(%q) = %q, want %q", cmd, got, want)
		}
	}
}

// yamlDocs decodes every document of a YAML file.
func yamlDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var docs []map[string]any
	dec := yaml.NewDecoder(f)
	for {
		var d map[string]any
		if err := dec.Decode(&d); err == io.EOF {
			return docs
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, d)
	}
}

// get walks a decoded YAML document along keys (and list indices).
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: not a mapping at %q", path, k)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("%v: no item %d", path, k)
			}
			v = l[k]
		}
	}
	return v
}

// shardList is "0, 1, ..., n-1" as the examples spell their shards.
func shardList(n int, format string) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf(format, i))
	}
	return out
}

// The sweep workflow's matrix lists every shard of SHARDS once, each job
// runs its own, and the merge job joins them all after them.
func TestSweepWorkflow(t *testing.T) {
	docs := yamlDocs(t, "sweep-workflow.yml")
	if len(docs) != 1 {
		t.Fatalf("%d documents", len(docs))
	}
	w := docs[0]
	n := get(t, w, "env", "SHARDS").(int)
	var matrix []string
	for _, s := range get(t, w, "jobs", "shard", "strategy", "matrix", "shard").([]any) {
		matrix = append(matrix, fmt.Sprint(s))
	}
	if want := shardList(n, "%d"); !slices.Equal(matrix, want) {
		t.Errorf("matrix shards %v, want %v for SHARDS=%d", matrix, want, n)
	}
	var runs []string
	for _, job := range []string{"shard", "merge"} {
		for _, st := range get(t, w, "jobs", job, "steps").([]any) {
			if r, ok := st.(map[string]any)["run"].(string); ok {
				runs = append(runs, job+": "+r)
			}
		}
	}
	all := strings.Join(runs, "\n")
	for _, want := range []string{
		`shard: ./bin/osrsim run "$CONFIG" --shard ${{ matrix.shard }}/$SHARDS --out shard-${{ matrix.shard }}`,
		"merge: ./bin/osrsim merge shards/shard-* --out sweep",
		"shard: make build", "merge: make build",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("sweep-workflow.yml runs no %q:\n%s", want, all)
		}
	}
	if get(t, w, "jobs", "merge", "needs") != "shard" {
		t.Errorf("the merge job does not wait for the shards")
	}
	if _, err := os.Stat(filepath.Join("..", get(t, w, "env", "CONFIG").(string))); err != nil {
		t.Errorf("the workflow's config: %v", err)
	}
}

// The Indexed Job runs completions shards, each pod the one its completion
// index names, and the merge Job joins every one of them.
func TestSweepIndexedJob(t *testing.T) {
	docs := yamlDocs(t, "sweep-indexed-job.yaml")
	jobs := map[string]map[string]any{}
	for _, d := range docs {
		if d["kind"] == "Job" {
			jobs[get(t, d, "metadata", "labels", "osrsim-step").(string)] = d
		}
	}
	sweep, merge := jobs["sweep"], jobs["merge"]
	if sweep == nil || merge == nil {
		t.Fatalf("want a sweep and a merge Job, labelled osrsim-step, got %v", jobs)
	}
	if get(t, sweep, "spec", "completionMode") != "Indexed" {
		t.Errorf("the sweep Job is not Indexed")
	}
	n := get(t, sweep, "spec", "completions").(int)
	c := get(t, sweep, "spec", "template", "spec", "containers", 0)
	if got := get(t, c, "env", 0, "valueFrom", "fieldRef", "fieldPath"); got != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
		t.Errorf("SHARD comes from %v, not the completion index", got)
	}
	var args []string
	for _, a := range get(t, c, "args").([]any) {
		args = append(args, a.(string))
	}
	if want := []string{"run", "/config/sweep.yaml", "--shard", fmt.Sprintf("$(SHARD)/%d", n), "--out", "/results/shard-$(SHARD)"}; !slices.Equal(args, want) {
		t.Errorf("sweep args %q, want %q", args, want)
	}
	args = nil
	for _, a := range get(t, merge, "spec", "template", "spec", "containers", 0, "args").([]any) {
		args = append(args, a.(string))
	}
	want := append(append([]string{"merge"}, shardList(n, "/results/shard-%d")...), "--out", "/results/sweep")
	if !slices.Equal(args, want) {
		t.Errorf("merge args %q, want %q", args, want)
	}
}
