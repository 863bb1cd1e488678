# Resume benchmark (services/edge/bench/resume.ts): measures, does not assert.
.PHONY: bench-resume

bench-resume: install tools ## time to resume 1,000 missed notifications; 10,000-client reconnect storm on 2 edges
	@node --import tsx services/edge/bench/resume.ts
