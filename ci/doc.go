// Package ci holds the sample CI workflow (github-workflow.yml), the
// worked examples of a sweep run in shards on many machines (a GitHub
// Actions matrix, sweep-workflow.yml; a Kubernetes Indexed Job,
// sweep-indexed-job.yaml), and the tests that keep the Dockerfile's build
// steps in step with .ci/run and the examples' shard counts consistent.
package ci
