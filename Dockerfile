# osrsim in Docker (issue #6).
#
#   make docker          # docker build -t osrsim:latest .
#   make docker-check    # osrsim check of every baked-in baseline
#   docker run --rm osrsim:latest                  # check the default experiment (seed)
#   docker run --rm osrsim:latest run --engine emu # any other osrsim command
#
# Stage 1 builds and tests on the same Debian release as CI, running the
# same Makefile targets as .ci/run, in the same order (ci/ci_test.go checks
# that they stay in step), then builds the binary. Stage 2 is a slim
# runtime with libunicorn2t64 (the version scripts/deps.sh installs), the
# binary, the experiment configs and the baselines.

FROM golang:1.26-bookworm AS build
# .git is not in the build context (see .dockerignore): pass the version in.
ARG VERSION=dev
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
COPY scripts/deps.sh scripts/
# scripts/deps.sh: libunicorn-dev, binutils, gcc, pkg-config.
RUN apt-get update \
 && apt-get install -y --no-install-recommends make \
 && ./scripts/deps.sh \
 && rm -rf /var/lib/apt/lists/*
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The targets of .ci/run.
RUN make test VERSION="$VERSION"
RUN make check-baselines VERSION="$VERSION"
RUN make build VERSION="$VERSION"

FROM debian:bookworm-slim
ENV DEBIAN_FRONTEND=noninteractive
COPY scripts/deps.sh /tmp/deps.sh
# libunicorn2t64 only.
RUN /tmp/deps.sh --runtime \
 && rm -rf /var/lib/apt/lists/* /tmp/deps.sh
COPY --from=build /src/bin/osrsim /usr/local/bin/osrsim
COPY --from=build /src/experiments/ /osrsim/experiments/
COPY --from=build /src/results/baselines/ /osrsim/results/baselines/
WORKDIR /osrsim
ENTRYPOINT ["osrsim"]
CMD ["check", "--baseline", "/osrsim/results/baselines/seed.json"]
