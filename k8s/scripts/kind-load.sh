#!/usr/bin/env bash
# make kind-load: build the edge and publisher images and load them into the kind nodes.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

build_args=()
if grep -q 'sha256:0000000000000000000000000000000000000000000000000000000000000000' services/edge/Dockerfile; then
  digest="$(k8s/scripts/resolve-base-image.sh node:20-slim)"
  echo "note: the Dockerfiles still carry the base-image digest placeholder; building with node:20-slim@$digest"
  echo "      (pin it for good with k8s/scripts/pin-base-image.sh and commit the result)"
  build_args=(--build-arg "NODE_IMAGE=node:20-slim@$digest")
fi

for svc in edge publisher; do
  say "building herald/$svc:$IMAGE_TAG"
  docker build "${build_args[@]}" -f "services/$svc/Dockerfile" -t "herald/$svc:$IMAGE_TAG" .
done
say "loading images into kind cluster $KIND_CLUSTER"
kind load docker-image --name "$KIND_CLUSTER" "herald/edge:$IMAGE_TAG" "herald/publisher:$IMAGE_TAG"
say "images loaded; next: make kind-install"
