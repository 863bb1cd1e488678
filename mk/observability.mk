# Observability: Prometheus/promtool and HAProxy (Debian packages), the local cluster of real
# processes (k8s/local/), and the dashboard PNG. Owned by the dashboards/local-cluster work.

OBS_STAMP := $(TOOLS)/.apt-observability
TOOLS_TARGETS += $(OBS_STAMP)
LOCAL_CLUSTER := node --import tsx k8s/local/cluster.ts

# Debian's packages register services; policy-rc.d 101 keeps their post-install from
# starting a system Prometheus on :9090 (the services' internal port) or HAProxy on :80.
$(OBS_STAMP):
	@mkdir -p $(TOOLS)
	@if command -v prometheus >/dev/null && command -v promtool >/dev/null && command -v haproxy >/dev/null; then \
	  touch $@; \
	else \
	  echo "==> installing prometheus, promtool and haproxy (Debian packages)"; \
	  created=0; if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created=1; fi; \
	  status=0; { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus haproxy >/dev/null; } || status=$$?; \
	  if [ $$created = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi; \
	  [ $$status = 0 ] && promtool --version >/dev/null && haproxy -v >/dev/null && touch $@; \
	fi

.PHONY: cluster-up cluster-down cluster-status cluster-roll dashboard-png

cluster-up: install tools ## start the local cluster: 3 NATS, 3 edges, 2 publishers, HAProxy, Prometheus
	@$(LOCAL_CLUSTER) up

cluster-down: ## stop exactly what cluster-up started
	@$(LOCAL_CLUSTER) down

cluster-status: ## show what the local cluster runs and whether it is healthy
	@$(LOCAL_CLUSTER) status

cluster-roll: ## restart the edges one at a time through the drain sequence
	@$(LOCAL_CLUSTER) roll

# matplotlib (PyPI, pinned) in a venv of its own, only for the PNG; not part of make tools/test.
DASH_VENV := $(TOOLS)/venv-dashboards
DASH_VENV_STAMP := $(DASH_VENV)/.matplotlib-3.11.2
$(DASH_VENV_STAMP):
	@echo "==> installing matplotlib 3.11.2 into tools/venv-dashboards"
	@python3 -m venv $(DASH_VENV)
	@$(DASH_VENV)/bin/pip install -q --disable-pip-version-check matplotlib==3.11.2
	@touch $@

dashboard-png: install tools $(DASH_VENV_STAMP) ## render docs/img/dashboard.png from a local cluster's Prometheus (~3 min)
	@DASHBOARD_PYTHON=$(DASH_VENV)/bin/python node --import tsx dashboards/scripts/dashboard-png.ts
