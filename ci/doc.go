// Package ci holds the sample CI workflow (github-workflow.yml) and the
// test that keeps the Dockerfile's build steps in step with .ci/run.
package ci
