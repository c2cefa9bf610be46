#!/usr/bin/env bash
# Median start-up time of the single executable (`kubectl-wand --version`) next to kubectl's own
# (`kubectl version --client`), both printing a version and exiting: neither talks to a cluster.
# Usage: scripts/startup-time.sh [EXECUTABLE]   (default dist/bin/kubectl-wand; RUNS=21)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-dist/bin/kubectl-wand}
runs=${RUNS:-21}
[ -x "$bin" ] || { echo "startup-time: $bin is missing: run npm run package first" >&2; exit 1; }
command -v kubectl >/dev/null || { echo "startup-time: kubectl is not on PATH" >&2; exit 1; }

# median of the runs, in milliseconds with one decimal
median_ms() {
  local samples=() start end
  "$@" >/dev/null 2>&1 # warm the page cache
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    samples+=($(( (end - start) / 1000 )))
  done
  printf '%s\n' "${samples[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1000 }'
}

printf '%-34s %8s ms (median of %s)\n' "kubectl-wand --version" "$(median_ms "$bin" --version)" "$runs"
printf '%-34s %8s ms (median of %s)\n' "kubectl version --client" "$(median_ms kubectl version --client)" "$runs"
