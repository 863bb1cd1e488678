# Edge benchmarks (not part of make test: they measure, they do not assert).
.PHONY: bench-edge

bench-edge: install tools ## 10,000 idle WS connections + room fan-out vs a raw uWS.js baseline
	@$(PNPM) --filter @herald/edge exec tsx bench/edge-bench.ts
