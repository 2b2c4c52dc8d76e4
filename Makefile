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
