#!/usr/bin/env bash
# make kind-up: a kind cluster with ingress-nginx, kube-prometheus-stack and prometheus-adapter,
# all pinned (lib.sh). Idempotent: reruns upgrade in place.
source "$(dirname "$0")/lib.sh"

have="$(kind version 2>/dev/null | awk '{print $2}')"
[ "$have" = "$KIND_VERSION_PINNED" ] || echo "note: kind $have found; this path is pinned to kind $KIND_VERSION_PINNED"

if kind get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; then
  say "kind cluster $KIND_CLUSTER already exists"
else
  say "creating kind cluster $KIND_CLUSTER ($KIND_NODE_IMAGE)"
  kind create cluster --name "$KIND_CLUSTER" --image "$KIND_NODE_IMAGE" --config "$ROOT/k8s/kind/cluster.yaml" --wait 180s
fi

INGRESS=chart "$ROOT/k8s/scripts/addons.sh"

say "cluster ready; next: make kind-load"
