#!/usr/bin/env bash
# Runs the end-to-end suite against a kind cluster instead of the emulator.
#
#   kind create cluster --name wand                       # once
#   WAND_E2E_CONTEXT=kind-wand test/e2e/run-on-kind.sh [jest args...]
#
# Builds the three test images, loads them into the cluster, applies every manifest of
# test/manifests/, waits for the deployments, builds kubectl-wand and runs jest on test/e2e with
# WAND_E2E_CONTEXT set: test/e2e/support/wand-env.ts then starts no emulator and talks to this
# cluster through a kubeconfig pinned to the context. Tests that use the emulator's fault hooks
# (editing a ConfigMap file behind a pod, cutting connections, killing containers) fail there
# with "needs the test cluster's fault hooks". Needs docker, kind, kubectl and npm. The namespaces are left in place for re-runs; remove them with
#   kubectl --context kind-wand delete ns -l wand-test=scenario
set -euo pipefail

context=${WAND_E2E_CONTEXT:?set WAND_E2E_CONTEXT to a kind context, e.g. kind-wand}
case $context in
  kind-*) cluster=${context#kind-} ;;
  *) echo "error: '$context' is not a kind context (kind-<cluster>)" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/../.." && pwd)
kc=(kubectl --context "$context")

for tag in 3.14 3.14-slim 3.13; do
  docker build -t "wand-test/python:$tag" -f "$root/test/images/Dockerfile.python-$tag" "$root/test/images"
  kind load docker-image "wand-test/python:$tag" --name "$cluster"
done

namespaces=()
for manifest in "$root"/test/manifests/*.yaml; do
  while read -r name; do namespaces+=("${name#namespace/}"); done \
    < <("${kc[@]}" apply -f "$manifest" -o name | grep '^namespace/')
done
for ns in "${namespaces[@]}"; do
  "${kc[@]}" -n "$ns" wait --for=condition=Available deployment --all --timeout=300s
done

cd "$root"
npm run build
WAND_E2E_CONTEXT=$context npx jest --runInBand test/e2e "$@"
