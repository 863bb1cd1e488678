#!/usr/bin/env bash
# Pin the Node base image of services/*/Dockerfile to the current digest of node:20-slim.
# Needs docker (buildx) and network. Review the diff and commit it.
#   k8s/scripts/pin-base-image.sh            # node:20-slim
#   k8s/scripts/pin-base-image.sh node:20.19-slim
set -euo pipefail
cd "$(dirname "$0")/../.."
tag="${1:-node:20-slim}"
digest="$(k8s/scripts/resolve-base-image.sh "$tag")"
for f in services/edge/Dockerfile services/publisher/Dockerfile; do
  sed -i.bak -E "s|^ARG NODE_IMAGE=.*$|ARG NODE_IMAGE=${tag}@${digest}|" "$f" && rm -f "$f.bak"
  echo "pinned $f to ${tag}@${digest}"
done
