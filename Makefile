# osrsim: `make run` and `make test` do all set-up on a fresh Debian machine.
GO      ?= go
BIN     := bin/osrsim
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all deps build run test vet bench clean

all: build

deps:
	@./scripts/deps.sh

build: deps
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/osrsim

run: build
	./$(BIN) run

vet: deps
	$(GO) vet ./...

test: vet
	$(GO) test ./...

bench: deps
	$(GO) test -run '^$$' -bench . ./...

clean:
	rm -rf bin

# Regression checks against the checked-in baselines (issue #6).
# check-baselines runs `osrsim check` (emulated counts, exact) for every
# results/baselines/NAME.json against experiments/NAME.yaml, reports all of
# them, and exits with the worst status (1 regression, 2 bad input).
# update-baselines re-records them through `osrsim check --update`, the only
# thing that ever writes a baseline.
#
# The image (Dockerfile): docker builds its runtime stage; docker-test
# builds every stage, whose build stage runs the same targets as .ci/run
# and whose last stage checks every baked-in baseline with the image's own
# osrsim, so it needs no container run (issue #15); docker-check runs that
# check in a container. scripts/docker-build.sh builds with Docker, or with
# podman and locally made base images where no Docker engine runs
# (DOCKER=podman to choose podman).
BASELINES := $(basename $(notdir $(wildcard results/baselines/*.json)))
IMAGE     ?= osrsim:latest
DOCKER    ?= docker
DOCKER_BUILD = DOCKER=$(DOCKER) ./scripts/docker-build.sh --build-arg VERSION=$(VERSION)

.PHONY: check-baselines update-baselines docker docker-test docker-check

check-baselines: build
	@worst=0; for b in $(BASELINES); do \
	  echo "== osrsim check --baseline results/baselines/$$b.json experiments/$$b.yaml"; \
	  ./$(BIN) check --baseline results/baselines/$$b.json experiments/$$b.yaml; rc=$$?; \
	  [ $$rc -gt $$worst ] && worst=$$rc; \
	done; exit $$worst

update-baselines: build
	@set -e; for b in $(BASELINES); do \
	  ./$(BIN) check --update --baseline results/baselines/$$b.json experiments/$$b.yaml; \
	done

docker:
	$(DOCKER_BUILD) --target runtime -t $(IMAGE) .

# The image must say which commit it was built from.
docker-test:
	@case "$(VERSION)" in dev|"") echo "docker-test: no git commit to version the image with (VERSION=$(VERSION))" >&2; exit 2;; esac
	$(DOCKER_BUILD) -t $(IMAGE) .

docker-check: docker
	@worst=0; for b in $(BASELINES); do \
	  echo "== docker: osrsim check --baseline /osrsim/results/baselines/$$b.json /osrsim/experiments/$$b.yaml"; \
	  $(DOCKER) run --rm $(IMAGE) check --baseline /osrsim/results/baselines/$$b.json /osrsim/experiments/$$b.yaml; rc=$$?; \
	  [ $$rc -gt $$worst ] && worst=$$rc; \
	done; exit $$worst
