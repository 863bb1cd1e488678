#!/usr/bin/env bash
# The minikube path (docs/kubernetes.md): the same chart, values and scripts as kind, with
# minikube's own ingress-nginx addon and images loaded with `minikube image load`.
#   k8s/minikube/up.sh        # start minikube, add-ons, build + load images, install Herald
#   KUBE_CONTEXT=minikube k8s/scripts/kind-test.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
export KUBE_CONTEXT=minikube
MINIKUBE_K8S_VERSION="${MINIKUBE_K8S_VERSION:-v1.34.0}"
IMAGE_TAG="${IMAGE_TAG:-dev}"
for t in minikube kubectl docker helm; do
  command -v "$t" >/dev/null || { echo "the minikube path needs $t (see docs/kubernetes.md)"; exit 1; }
done

if ! minikube status >/dev/null 2>&1; then
  echo "==> minikube start (Kubernetes $MINIKUBE_K8S_VERSION, 2 nodes)"
  minikube start --kubernetes-version="$MINIKUBE_K8S_VERSION" --nodes=2 --cpus=2 --memory=4g --cni=calico
fi
echo "==> ingress addon (ingress-nginx in namespace ingress-nginx)"
minikube addons enable ingress
INGRESS=addon "$ROOT/k8s/scripts/addons.sh"

cd "$ROOT"
for svc in edge publisher; do
  if grep -q 'sha256:0000000000000000000000000000000000000000000000000000000000000000' "services/$svc/Dockerfile"; then
    digest="$(k8s/scripts/resolve-base-image.sh node:20-slim)"
    args=(--build-arg "NODE_IMAGE=node:20-slim@$digest")
  else
    args=()
  fi
  echo "==> building herald/$svc:$IMAGE_TAG and loading it into minikube"
  docker build "${args[@]}" -f "services/$svc/Dockerfile" -t "herald/$svc:$IMAGE_TAG" .
  minikube image load "herald/$svc:$IMAGE_TAG"
done

IMAGE_TAG="$IMAGE_TAG" "$ROOT/k8s/scripts/kind-install.sh"
echo "==> done. Reach the ingress with \`minikube tunnel\` (binds 127.0.0.1:80), then: KUBE_CONTEXT=minikube k8s/scripts/kind-test.sh"
