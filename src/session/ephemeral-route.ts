/**
 * The ephemeral route: where `kubectl exec` may not trace the app (Yama ptrace_scope 1/2, another
 * user, a seccomp filter), the agent runs in a debugger container that kubectl adds to the pod —
 * `kubectl debug POD --target C --profile general` gives it SYS_PTRACE in C's PID namespace — and
 * works in the app's files through /proc/1/root (src/agent/wand_agent/ephemeral.py). At most one
 * such container per pod and target container: a running one is reused with `kubectl exec -c`.
 * Kubernetes cannot remove an ephemeral container; ours terminates when its agent ends.
 */
import { randomBytes } from 'crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { EPHEMERAL_BOOTSTRAP, type ProcessRecord, type TraceDenialCode } from '../agent/contract';
import type { Kubectl } from '../kube/kubectl';
import type { Pod } from '../kube/types';

export type EphemeralMode = 'auto' | 'always' | 'never';
export type Route = 'exec' | 'ephemeral';

export const DEBUG_CONTAINER_PREFIX = 'wand-debug-';

/** Refusals that a root debugger container with CAP_SYS_PTRACE overcomes (ptrace_scope 3 and gVisor are not). */
const OVERCOME: ReadonlySet<TraceDenialCode> = new Set<TraceDenialCode>([
  'yama-scope-1',
  'yama-scope-2',
  'other-uid',
  'other-gid',
  'more-capabilities',
  'not-dumpable',
  'seccomp',
  'proc-unreadable',
]);

/** A Python process the exec'd agent may not trace, for a reason the ephemeral route overcomes. */
export function blockedForExec(p: ProcessRecord): boolean {
  return p.isPython && p.reasonCode === 'permission-denied' && OVERCOME.has(p.traceDeniedCode ?? 'unknown');
}

/** `auto`: take the ephemeral route when the agent in `kubectl exec` may not trace the wanted processes. */
export function routeFor(mode: EphemeralMode, processes: readonly ProcessRecord[], pid?: number): Route {
  if (mode !== 'auto') return mode === 'always' ? 'ephemeral' : 'exec';
  const wanted = pid === undefined ? processes : processes.filter((p) => p.pid === pid);
  return wanted.some(blockedForExec) ? 'ephemeral' : 'exec';
}

/** Why the route was taken, for stderr before it is. */
export function routeReason(processes: readonly ProcessRecord[]): string {
  const blocked = processes.find(blockedForExec);
  const why = blocked?.reason?.replace(/^no permission to trace it: /, '') ?? 'asked for with --ephemeral always';
  return `kubectl exec may not trace the app (${why}): attaching from an ephemeral debugger container (kubectl debug --profile general)`;
}

/** A running debugger container of ours in the pod, aimed at `container`. */
export function runningDebugContainer(pod: Pod, container: string): string | undefined {
  const running = new Set((pod.status?.ephemeralContainerStatuses ?? []).filter((s) => s.state?.running).map((s) => s.name));
  return (pod.spec.ephemeralContainers ?? []).find(
    (c) => c.name.startsWith(DEBUG_CONTAINER_PREFIX) && c.targetContainerName === container && running.has(c.name),
  )?.name;
}

/** The app runs as another user than root: the debugger container must be made root (--custom). */
export function appRunsAsNonRoot(pod: Pod, container: string, appUid: number | undefined): boolean {
  const spec = pod.spec.containers.find((c) => c.name === container);
  const uid = spec?.securityContext?.runAsUser ?? pod.spec.securityContext?.runAsUser ?? appUid;
  return uid !== undefined && uid !== 0;
}

export interface DebugContainerPlan {
  /** kubectl's arguments that start the agent in it */
  argv: string[];
  name: string;
  /** an existing container is used (kubectl exec -c), none is added */
  reused: boolean;
  /** removes the local --custom file */
  cleanup(): void;
}

export interface PlanOptions {
  /** --debug-image; the target container's own image by default */
  image?: string;
  /** the uid of the app process (from the exec'd agent's list), when known */
  appUid?: number;
  /** kubectl's client minor version (kubectlMinor()) */
  kubectlMinor: number;
}

/** kubectl debug has --custom by default since 1.31 (1.30 behind KUBECTL_DEBUG_CUSTOM_PROFILE). */
export function hasCustom(minor: number, env: NodeJS.ProcessEnv = process.env): boolean {
  return minor >= 31 || (minor === 30 && env.KUBECTL_DEBUG_CUSTOM_PROFILE === 'true');
}

export async function kubectlMinor(kubectl: Kubectl): Promise<number> {
  const v = await kubectl.json<{ clientVersion?: { minor?: string } }>(['version', '--client', '-o', 'json']);
  return parseInt(v.clientVersion?.minor ?? '0', 10) || 0;
}

export function planDebugContainer(pod: Pod, namespace: string, container: string, opts: PlanOptions): DebugContainerPlan {
  const podName = pod.metadata.name;
  const existing = runningDebugContainer(pod, container);
  if (existing) {
    return { argv: ['exec', '-i', podName, '-c', existing, '-n', namespace, '--', 'python3', '-c', EPHEMERAL_BOOTSTRAP], name: existing, reused: true, cleanup: () => undefined };
  }
  const name = `${DEBUG_CONTAINER_PREFIX}${randomBytes(3).toString('hex')}`;
  const image = opts.image ?? pod.spec.containers.find((c) => c.name === container)?.image ?? '';
  const custom: string[] = [];
  let dir: string | undefined;
  if (appRunsAsNonRoot(pod, container, opts.appUid) && hasCustom(opts.kubectlMinor)) {
    dir = mkdtempSync(path.join(tmpdir(), 'wand-debug-'));
    const file = path.join(dir, 'custom.json');
    writeFileSync(file, JSON.stringify({ securityContext: { runAsUser: 0 } }), { mode: 0o600 });
    custom.push('--custom', file);
  }
  const argv = [
    'debug', podName, '-n', namespace, '--target', container, '--profile', 'general', '--image', image, '-c', name, '-i',
    ...custom, '--', 'python3', '-c', EPHEMERAL_BOOTSTRAP,
  ];
  return { argv, name, reused: false, cleanup: () => dir && rmSync(dir, { recursive: true, force: true }) };
}
