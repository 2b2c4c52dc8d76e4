# osrsim in Docker (issues #6 and #15).
#
#   docker build --build-arg VERSION=$(git describe --always --dirty) -t osrsim .
#   docker run --rm osrsim                  # check the default experiment (seed)
#   docker run --rm osrsim run --engine emu # any other osrsim command
#
#   make docker        # the runtime stage only, tagged osrsim:latest
#   make docker-test   # every stage: the image checks itself while building
#   make docker-check  # run the image's check of every baseline
#
# Stage build compiles and tests on the same Debian release as CI, running
# the same Makefile targets as .ci/run, in the same order (ci/ci_test.go
# checks that they stay in step), then builds the binary. Stage runtime is a
# slim image with libunicorn2, the binary, the experiment configs and the
# baselines. Stage check, the default target, is that image proving itself
# while it is built (so machines that build images but cannot run
# containers check it too): its osrsim reports the version it was built
# as, and passes `osrsim check` on every baked-in baseline.
#
# .git is not in the build context (see .dockerignore): the version comes in
# as the build argument VERSION (the Makefile passes the commit).

FROM golang:1.26-bookworm AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends libunicorn-dev binutils gcc pkg-config make \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Declared here, not earlier: a build argument is part of the cache key of
# every RUN after it, and the layers above must stay cached across commits.
ARG VERSION=dev
# The targets of .ci/run. Go's build cache outlives the build on the same
# machine (a cache mount): a rebuild compiles and tests only what changed.
RUN --mount=type=cache,target=/root/.cache/go-build make test VERSION="$VERSION"
RUN --mount=type=cache,target=/root/.cache/go-build make check-baselines VERSION="$VERSION"
RUN --mount=type=cache,target=/root/.cache/go-build make build VERSION="$VERSION"

FROM debian:bookworm-slim AS runtime
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends libunicorn2 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/experiments/ /osrsim/experiments/
COPY --from=build /src/results/baselines/ /osrsim/results/baselines/
COPY --from=build /src/bin/osrsim /usr/local/bin/osrsim
WORKDIR /osrsim
ENTRYPOINT ["osrsim"]
CMD ["check", "--baseline", "/osrsim/results/baselines/seed.json"]

FROM runtime AS check
ARG VERSION=dev
RUN test "$(osrsim version | head -n 1)" = "osrsim $VERSION" \
 || { echo "the image's osrsim is not version $VERSION:"; osrsim version; exit 1; }
RUN worst=0; \
    for b in results/baselines/*.json; do \
      name=$(basename "$b" .json); \
      echo "== osrsim check --baseline $b experiments/$name.yaml"; \
      osrsim check --baseline "$b" "experiments/$name.yaml"; rc=$?; \
      [ $rc -gt $worst ] && worst=$rc; \
    done; \
    exit $worst
