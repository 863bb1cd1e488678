# Browser tests (issue 6): Debian's chromium, driven by playwright-core from the SDK's
# browser tests. Never `playwright install`: the browser comes from apt, once.

BROWSER_STAMP := $(TOOLS)/.apt-chromium
TOOLS_TARGETS += $(BROWSER_STAMP)

$(BROWSER_STAMP):
	@mkdir -p $(TOOLS)
	@if [ -x /usr/bin/chromium ]; then \
	  touch $@; \
	else \
	  echo "==> installing chromium (Debian package) for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  /usr/bin/chromium --version && touch $@; \
	fi
