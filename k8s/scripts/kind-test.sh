#!/usr/bin/env bash
# make kind-test: helm test (publish → WebSocket delivery inside the cluster), then a short k6
# smoke run through the ingress from this machine if k6 is installed (we do not install k6).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

say "helm test $RELEASE"
hc test "$RELEASE" --namespace "$NAMESPACE" --logs --timeout 2m

if ! command -v k6 >/dev/null; then
  echo "k6 not found: skipping the smoke load run (install k6 from https://k6.io to include it)"
  exit 0
fi
tokens() { kc -n "$NAMESPACE" get secret herald-test-tokens -o jsonpath="{.data.$1}" | base64 -d; }
# The publisher API is internal (no ingress by default): reach it through a port-forward.
kc -n "$NAMESPACE" port-forward "svc/$(fullname)-publisher" 18081:8081 >/dev/null 2>&1 &
pf=$!
trap 'kill $pf 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -s -o /dev/null http://127.0.0.1:18081/ && break; sleep 0.2; done
say "k6 smoke run: WebSockets through the ingress at ws://localhost/ws, publishing through the port-forward"
WS_URL="ws://localhost/ws" PUBLISHER_URL="http://127.0.0.1:18081" \
  CLIENT_TOKEN="$(tokens client-token)" SERVICE_TOKEN="$(tokens service-token)" \
  k6 run --quiet k8s/k6/smoke.js
