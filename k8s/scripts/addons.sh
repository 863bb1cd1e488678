#!/usr/bin/env bash
# Cluster add-ons Herald's chart expects, pinned (lib.sh): kube-prometheus-stack (Prometheus,
# Grafana, the ServiceMonitor/PrometheusRule CRDs), prometheus-adapter (herald_edge_connections for
# the HPA) and, with INGRESS=chart, ingress-nginx. Used by kind-up.sh and k8s/minikube/up.sh.
source "$(dirname "$0")/lib.sh"

say "adding chart repositories"
"$HELM" repo add ingress-nginx https://kubernetes.github.io/ingress-nginx --force-update >/dev/null
"$HELM" repo add prometheus-community https://prometheus-community.github.io/helm-charts --force-update >/dev/null
"$HELM" repo update ingress-nginx prometheus-community >/dev/null

say "kube-prometheus-stack $KUBE_PROMETHEUS_STACK_VERSION"
hc upgrade --install kube-prometheus-stack prometheus-community/kube-prometheus-stack \
  --version "$KUBE_PROMETHEUS_STACK_VERSION" --namespace monitoring --create-namespace \
  -f "$ROOT/k8s/kind/kube-prometheus-stack.yaml" --wait --timeout 10m

if [ "${INGRESS:-chart}" = chart ]; then
  say "ingress-nginx $INGRESS_NGINX_CHART_VERSION (host ports 80/443 on the ingress-ready node)"
  hc upgrade --install ingress-nginx ingress-nginx/ingress-nginx \
    --version "$INGRESS_NGINX_CHART_VERSION" --namespace ingress-nginx --create-namespace \
    -f "$ROOT/k8s/kind/ingress-nginx.yaml" --wait --timeout 5m
fi

say "prometheus-adapter $PROMETHEUS_ADAPTER_VERSION"
hc upgrade --install prometheus-adapter prometheus-community/prometheus-adapter \
  --version "$PROMETHEUS_ADAPTER_VERSION" --namespace monitoring \
  -f "$ROOT/k8s/kind/prometheus-adapter.yaml" --wait --timeout 5m
