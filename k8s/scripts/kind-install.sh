#!/usr/bin/env bash
# make kind-install: keys, NATS credentials and test tokens as Secrets, then helm upgrade --install.
# Secrets are created once and kept; the private key stays on this machine in .cluster/kind/ (git-ignored).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
keys="$ROOT/.cluster/kind"
mkdir -p "$keys" && chmod 700 "$keys"

kc get namespace "$NAMESPACE" >/dev/null 2>&1 || kc create namespace "$NAMESPACE"

if ! kc -n "$NAMESPACE" get secret herald-jwt >/dev/null 2>&1; then
  say "generating the RS256 signing key pair (public half in Secret herald-jwt)"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$keys/private.pem" 2>/dev/null
  openssl pkey -in "$keys/private.pem" -pubout -out "$keys/public.pem"
  kc -n "$NAMESPACE" create secret generic herald-jwt --from-file=public.pem="$keys/public.pem"
fi
[ -f "$keys/private.pem" ] || { echo "Secret herald-jwt exists but $keys/private.pem is gone: delete the Secret and rerun"; exit 1; }

# One NATS identity per component (least privilege, DESIGN rule 7); the chart's dev NATS reads the same Secrets.
for who in edge publisher; do
  if ! kc -n "$NAMESPACE" get secret "herald-nats-$who" >/dev/null 2>&1; then
    say "creating NATS credentials for $who"
    kc -n "$NAMESPACE" create secret generic "herald-nats-$who" \
      --from-literal=user="$who" --from-literal=password="$(openssl rand -hex 24)"
  fi
done

say "minting helm test tokens (24 h) into Secret herald-test-tokens"
tokens="$(node k8s/scripts/mint-tokens.mjs --key "$keys/private.pem" --issuer https://kind.herald.local/ --tenant kind --sub smoke-user)"
client="$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).clientToken)' "$tokens")"
service="$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).serviceToken)' "$tokens")"
kc -n "$NAMESPACE" create secret generic herald-test-tokens \
  --from-literal=client-token="$client" --from-literal=service-token="$service" \
  --dry-run=client -o yaml | kc apply -f - >/dev/null

say "helm upgrade --install $RELEASE (chart charts/herald, values k8s/values/kind.yaml)"
hc upgrade --install "$RELEASE" charts/herald --namespace "$NAMESPACE" \
  -f k8s/values/kind.yaml \
  --set edge.image.tag="$IMAGE_TAG" --set publisher.image.tag="$IMAGE_TAG" \
  --wait --timeout 10m
say "installed; next: make kind-test"
