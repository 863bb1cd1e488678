# Herald — the two commands a new user needs are `make demo` and `make test`.
# Everything they need is installed here, pinned, into tools/ (git-ignored).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

TOOLS       := $(CURDIR)/tools
BIN         := $(TOOLS)/bin
PNPM_VERSION := 10.34.8
NATS_VERSION := v2.15.2
PNPM        := $(TOOLS)/pnpm-$(PNPM_VERSION)/node_modules/.bin/pnpm
NATS_SERVER := $(BIN)/nats-server
NATS_STAMP  := $(BIN)/.nats-server-$(NATS_VERSION)
export PATH := $(BIN):$(PATH)
export HERALD_TOOLS := $(TOOLS)

# mk/*.mk add their own tools and test steps to these lists.
TOOLS_TARGETS := $(NATS_STAMP)
TEST_STEPS    := test-unit

include $(sort $(wildcard mk/*.mk))

.PHONY: help install tools typecheck test test-unit demo clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(PNPM):
	@echo "==> installing pnpm $(PNPM_VERSION) into tools/"
	@mkdir -p $(TOOLS)/pnpm-$(PNPM_VERSION)
	@npm install --prefix $(TOOLS)/pnpm-$(PNPM_VERSION) --no-save --no-audit --no-fund --loglevel=error pnpm@$(PNPM_VERSION) >/dev/null

node_modules/.modules.yaml: $(PNPM) pnpm-lock.yaml package.json $(wildcard services/*/package.json charts/*/package.json dashboards/package.json loadtest/package.json)
	@echo "==> installing dependencies from the lockfile"
	@$(PNPM) install --frozen-lockfile --reporter=append-only
	@touch $@

install: node_modules/.modules.yaml ## install dependencies from the lockfile

$(NATS_STAMP):
	@command -v go >/dev/null || { echo "Go is required to build nats-server (https://go.dev/dl/)"; exit 1; }
	@echo "==> building nats-server $(NATS_VERSION) into tools/bin (first time only, about 2 minutes)"
	@mkdir -p $(BIN)
	@GOBIN=$(BIN) GOFLAGS=-trimpath go install github.com/nats-io/nats-server/v2@$(NATS_VERSION)
	@$(NATS_SERVER) --version && touch $@

tools: $(TOOLS_TARGETS) ## build/install the pinned test tools into tools/

typecheck: install ## type-check every package
	@echo "==> type-checking"
	@$(PNPM) -r --workspace-concurrency=2 run typecheck

test-unit: install tools
	@echo "==> vitest (all projects)"
	@$(PNPM) exec vitest run

test: install tools typecheck ## install, build tools, type-check and run the whole suite
	@for step in $(TEST_STEPS); do $(MAKE) --no-print-directory $$step; done
	@echo "==> make test: all steps passed"

demo: install $(NATS_STAMP) ## run Herald locally and watch notifications arrive
	@$(PNPM) exec tsx scripts/demo.ts

clean: ## remove build output (keeps tools/)
	rm -rf node_modules services/*/node_modules services/*/dist .demo
