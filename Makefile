# ecs-disk-rollback — `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
BIN := target/main
EVENT ?=
ENV ?=
FUZZTIME ?= 20s
GOLANGCI_LINT_VERSION := v2.15.0
# The build's version, stamped into the binary (main.version), logged at start,
# carried in every Result and in the package's name.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.DEFAULT_GOAL := help

.PHONY: help build package run test test-short lint bench fuzz soak cloud-check clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build the function: static linux/amd64 binary target/main, version stamped from git
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags='-s -w -X main.version=$(VERSION)' -o $(BIN) .

package: build ## zip target/main (handler: main) into target/ecs-disk-rollback-VERSION.zip + .sha256, and target/function.zip
	@$(GO) run ./internal/tools/zipfn -sha256 -also target/function.zip -o target/ecs-disk-rollback-$(VERSION).zip $(BIN)

run: build ## run the function on the local emulators: a dry run, then a real reset (EVENT=file, ENV='K=V ...')
	@$(GO) run ./cmd/run-local -binary $(BIN) $(foreach e,$(ENV),-env $(e)) $(if $(EVENT),$(foreach f,$(EVENT),-event $(f)),-event events/testdata/direct-dryrun.json -event events/testdata/direct-reset.json)

# The e2e tests mostly wait (emulated transitions, polls, settle delays):
# -parallel 8 runs eight at a time, not GOMAXPROCS (2 here), and the
# longest packages are named first so they start first (go test runs two
# packages at a time here; the short ones fill in at the end).
LONG_TESTS := ./e2e ./cmd/bench ./internal/ecstest ./emulator/ecsemu
test: ## every test, with the race detector (what CI runs)
	$(GO) vet ./...
	$(GO) test -race -count=1 -parallel 8 -timeout 12m $(LONG_TESTS) ./...

test-short: ## the quick tests only
	$(GO) test -short -count=1 ./...

lint: ## go vet and golangci-lint (pinned, run through go run; the first run downloads it)
	$(GO) vet ./...
	@test -e "$$($(GO) env GOMODCACHE)/cache/download/github.com/golangci/golangci-lint/v2/@v/$(GOLANGCI_LINT_VERSION).zip" || \
	  echo "lint: first run: downloading and building golangci-lint $(GOLANGCI_LINT_VERSION) through the Go module proxy (a minute or two; cached after)"
	$(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION) run ./...

bench: ## run the benchmark harness and rewrite BENCHMARKS.md
	$(GO) run ./cmd/bench -out BENCHMARKS.md

fuzz: ## run each fuzz target for FUZZTIME (default 20s)
	@set -e; for pkg in ./function ./events ./ecsclient; do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

soak: ## the long load test under faults (loopback only, bounded)
	$(GO) test -race -count=1 -run 'TestLoad' -timeout 30m ./e2e -soak

cloud-check: ## run the ECS contract against real ECS (needs credentials; ARGS='-region R -instance i-… -disks d-… [-mutate]')
	@$(GO) run ./cmd/cloud-check $(ARGS)

clean: ## remove build output
	rm -rf target bench-out
