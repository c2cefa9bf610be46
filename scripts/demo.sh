#!/usr/bin/env bash
# npm run demo: a sample FastAPI app (uvicorn --reload) on the test cluster, and kubectl wand
# debug against it. Attach your editor to the printed port; in another terminal, make a request:
#   KUBECONFIG=.state/demo/kubeconfig kubectl exec -n wand-uvicorn deploy/api -- \
#     python3 -c "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:8000/work?x=21').read())"
# Ctrl-C stops the session and the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the test cluster needs on this machine (as .ci/run installs it): say what is missing and how
# to install it, rather than fail half-way with `spawn debootstrap ENOENT`.
missing=()
command -v debootstrap >/dev/null || missing+=(debootstrap) # builds the test images
command -v ip >/dev/null || missing+=(iproute2)             # pod networks
command -v unshare >/dev/null || missing+=(util-linux)      # pods are Linux namespaces
command -v openssl >/dev/null || missing+=(openssl)         # the API server's certificates
if [ ${#missing[@]} -gt 0 ]; then
  echo "demo: the test cluster needs ${missing[*]}, not installed here." >&2
  echo "demo: install with: apt-get install ${missing[*]}   (as root, on Debian or Ubuntu)" >&2
  exit 1
fi
command -v kubectl >/dev/null || { echo "demo: kubectl is not installed: https://kubernetes.io/docs/tasks/tools/" >&2; exit 1; }
if [ "$(id -u)" != 0 ]; then
  echo "demo: the test cluster runs pods as Linux namespaces and needs root: sudo npm run demo" >&2
  exit 1
fi
state="$PWD/.state/demo"
npm run -s build
npm run -s images >/dev/null
npm run -s cluster -- down --state "$state" >/dev/null 2>&1 || true
npm run -s cluster -- up --manifests test/manifests/fastapi-uvicorn-reload.yaml --state "$state"
trap 'npm run -s cluster -- down --state "$state"' EXIT
bin="$state/bin"
mkdir -p "$bin"
ln -sf "$PWD/build/src/cli/main.js" "$bin/kubectl-wand"
export PATH="$bin:$PATH" KUBECONFIG="$state/kubeconfig"
echo
echo "The app: test/manifests/fastapi-uvicorn-reload.yaml (file /app/main.py in the pod)."
echo "Break on its '# BREAKPOINT' line, then request http://127.0.0.1:8000/work?x=21 inside the pod:"
echo "  KUBECONFIG=$KUBECONFIG kubectl exec -n wand-uvicorn deploy/api -- python3 -c \"import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:8000/work?x=21').read())\""
echo
kubectl wand debug svc/api -n wand-uvicorn "$@" || true
