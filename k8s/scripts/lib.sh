# Shared by the kind-*.sh scripts. Versions are pinned here and in docs/kubernetes.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KIND_CLUSTER="${KIND_CLUSTER:-herald}"
HELM="${HELM:-helm}"
NAMESPACE="${NAMESPACE:-herald}"
RELEASE="${RELEASE:-herald}"
IMAGE_TAG="${IMAGE_TAG:-dev}"
# Pinned versions (also in docs/kubernetes.md). kind v0.30.0's node image for Kubernetes v1.34.0,
# digest from the kind v0.30.0 release notes.
KIND_VERSION_PINNED="v0.30.0"
KIND_NODE_IMAGE="${KIND_NODE_IMAGE:-kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a}"
INGRESS_NGINX_CHART_VERSION="${INGRESS_NGINX_CHART_VERSION:-4.15.1}"
KUBE_PROMETHEUS_STACK_VERSION="${KUBE_PROMETHEUS_STACK_VERSION:-85.1.3}"
PROMETHEUS_ADAPTER_VERSION="${PROMETHEUS_ADAPTER_VERSION:-5.3.0}"
export KUBECONFIG="${KUBECONFIG:-$HOME/.kube/config}"
# kubectl/helm context: the kind cluster by default; KUBE_CONTEXT=minikube for the minikube path.
KCTX="${KUBE_CONTEXT:-kind-${KIND_CLUSTER}}"

say() { printf '==> %s\n' "$*"; }
kc() { kubectl --context "$KCTX" "$@"; }
hc() { "$HELM" --kube-context "$KCTX" "$@"; }
# Resource name prefix the chart uses (`<release>-herald`, or the release name when it contains "herald").
fullname() { case "$RELEASE" in *herald*) echo "$RELEASE" ;; *) echo "$RELEASE-herald" ;; esac; }
