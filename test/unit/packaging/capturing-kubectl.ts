/**
 * A stand-in kubectl for the packaged CLI, needing nothing but /bin/sh and /bin/cat (so it also
 * runs with no Node.js on PATH): `get` prints one Running pod, `exec` keeps its stdin (the agent
 * program kubectl-wand feeds to `python3 -`) and fails. Tests compare what was kept with agent.py.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const POD = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'app-1', namespace: 'shop', uid: 'u-1', creationTimestamp: '2026-01-01T00:00:00Z', labels: { app: 'app' } },
  spec: { containers: [{ name: 'app', image: 'python:3.14' }] },
  status: {
    phase: 'Running',
    containerStatuses: [{ name: 'app', ready: true, restartCount: 0, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }],
  },
};

export interface CapturingKubectl {
  /** the script: give it as KUBECTL_PATH */
  kubectl: string;
  /** what the last `kubectl exec` read on stdin */
  stdinFile: string;
  /** environment entries the script needs */
  env: Record<string, string>;
}

export function writeCapturingKubectl(dir: string): CapturingKubectl {
  const kubectl = path.join(dir, 'kubectl');
  const podFile = path.join(dir, 'pod.json');
  const stdinFile = path.join(dir, 'exec-stdin');
  writeFileSync(podFile, JSON.stringify(POD));
  writeFileSync(
    kubectl,
    [
      '#!/bin/sh',
      'for arg in "$@"; do',
      '  case "$arg" in',
      `    exec) /bin/cat > "$WAND_FAKE_STDIN"; echo 'error: fake kubectl runs no Python' >&2; exit 1 ;;`,
      '    get) /bin/cat "$WAND_FAKE_POD"; exit 0 ;;',
      '  esac',
      'done',
      'exit 1',
      '',
    ].join('\n'),
  );
  chmodSync(kubectl, 0o755);
  return { kubectl, stdinFile, env: { KUBECTL_PATH: kubectl, WAND_FAKE_POD: podFile, WAND_FAKE_STDIN: stdinFile } };
}

/** `kubectl wand pods pod/app-1 -n shop --with-pids`: one agent exec for the one pod. */
export const PODS_WITH_PIDS = ['pods', `pod/${POD.metadata.name}`, '-n', POD.metadata.namespace, '--with-pids', '-o', 'json'];
