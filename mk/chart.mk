# Helm chart, images and the kind path (issue 7).
# `make test` only renders and validates the chart offline with a pinned helm;
# the kind-* targets are for an operator with Docker + kind and never run in `make test`.

HELM_VERSION := v3.22.0
HELM         := $(BIN)/helm
HELM_STAMP   := $(BIN)/.helm-$(HELM_VERSION)
# The same -X flags as helm's own release build: without them `go install` reports version "v3.22"
# and Kubernetes v1.20 capabilities (helm's fallback), which fails the chart's kubeVersion check.
HELM_K8S_MINOR := 37
HELM_LDFLAGS := -s -w -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) \
	-X helm.sh/helm/v3/internal/version.gitTreeState=clean \
	-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$(HELM_K8S_MINOR) \
	-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$(HELM_K8S_MINOR)
CHART_DIR    := charts/herald

TOOLS_TARGETS += $(HELM_STAMP)

$(HELM_STAMP):
	@command -v go >/dev/null || { echo "Go is required to build helm (https://go.dev/dl/)"; exit 1; }
	@echo "==> building helm $(HELM_VERSION) into tools/bin (first time only, several minutes on 2 cores)"
	@mkdir -p $(BIN)
	@GOBIN=$(BIN) GOFLAGS=-trimpath CGO_ENABLED=0 go install -ldflags "$(HELM_LDFLAGS)" helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	@$(HELM) version --short && touch $@

.PHONY: sync-dashboards kind-up kind-load kind-install kind-test kind-down kind-check

# dashboards/ is the source of truth; Helm's .Files cannot read outside the chart,
# so the chart keeps copies (a test fails when they differ).
# dashboards/*.json holds package.json and tsconfig.json too: a dashboard is a JSON file with "panels".
DASHBOARD_FILES = $(shell grep -l '"panels"' dashboards/*.json 2>/dev/null) $(wildcard dashboards/alerts.yaml)

sync-dashboards: ## copy the Grafana dashboards and alerts.yaml from dashboards/ into the chart
	@mkdir -p $(CHART_DIR)/dashboards
	@rm -f $(CHART_DIR)/dashboards/*.json $(CHART_DIR)/dashboards/alerts.yaml
	@n=0; for f in $(DASHBOARD_FILES); do cp "$$f" $(CHART_DIR)/dashboards/ && n=$$((n+1)); done; \
		echo "==> copied $$n file(s) from dashboards/ into $(CHART_DIR)/dashboards/"

# ---- operator targets (need docker, kind, kubectl and helm on the operator's machine) ----
KIND_CLUSTER ?= herald
IMAGE_TAG    ?= dev
KIND_HELM    ?= $(if $(wildcard $(HELM)),$(HELM),helm)

kind-check:
	@missing=""; for t in docker kind kubectl; do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	command -v $(KIND_HELM) >/dev/null || missing="$$missing helm(run 'make tools')"; \
	if [ -n "$$missing" ]; then \
		echo "kind targets need Docker, kind and kubectl on this machine; missing:$$missing"; \
		echo "see docs/kubernetes.md (install Docker, kind v0.30.0, kubectl), then rerun."; exit 1; fi; \
	docker info >/dev/null 2>&1 || { echo "docker is installed but the daemon is not reachable (is Docker running?)"; exit 1; }

kind-up: kind-check ## create the kind cluster with ingress-nginx and kube-prometheus-stack
	@HELM=$(KIND_HELM) KIND_CLUSTER=$(KIND_CLUSTER) k8s/scripts/kind-up.sh

kind-load: kind-check ## build the edge and publisher images and load them into kind
	@HELM=$(KIND_HELM) KIND_CLUSTER=$(KIND_CLUSTER) IMAGE_TAG=$(IMAGE_TAG) k8s/scripts/kind-load.sh

kind-install: kind-check ## helm install Herald into the kind cluster
	@HELM=$(KIND_HELM) KIND_CLUSTER=$(KIND_CLUSTER) IMAGE_TAG=$(IMAGE_TAG) k8s/scripts/kind-install.sh

kind-test: kind-check ## run helm test and a short k6 smoke run against the kind cluster
	@HELM=$(KIND_HELM) KIND_CLUSTER=$(KIND_CLUSTER) k8s/scripts/kind-test.sh

kind-down: kind-check ## delete the kind cluster
	@kind delete cluster --name $(KIND_CLUSTER)
