# Publisher (services/publisher): throughput benchmark against one nats-server.
.PHONY: bench-publisher

bench-publisher: install tools ## publisher requests/s and p50/p99, single and batch, against one nats-server
	@$(PNPM) exec tsx services/publisher/bench/publish.ts
