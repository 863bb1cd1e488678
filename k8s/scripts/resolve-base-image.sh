#!/usr/bin/env bash
# Print the multi-arch index digest (sha256:...) of a base image tag, e.g. node:20-slim.
set -euo pipefail
tag="${1:?usage: resolve-base-image.sh <image:tag>}"
if docker buildx imagetools inspect "$tag" --format '{{json .Manifest.Digest}}' >/dev/null 2>&1; then
  docker buildx imagetools inspect "$tag" --format '{{json .Manifest.Digest}}' | tr -d '"'
else
  docker pull --quiet "$tag" >/dev/null
  docker image inspect --format '{{index .RepoDigests 0}}' "$tag" | sed 's/.*@//'
fi
