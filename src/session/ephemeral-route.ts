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
import { ephemeralBootstrap, type ProcessRecord } from '../agent/contract';
import { WandError } from '../errors';
import { ContainerNotFound, Forbidden, KubeError } from '../kube/errors';
import type { Kubectl } from '../kube/kubectl';
import { openAgentSession, type AgentSession } from './agent-session';
import { EPHEMERAL } from '../remedies';
import { overcomeByEphemeral } from '../select/ephemeral';
import type { Pod } from '../kube/types';

export type EphemeralMode = 'auto' | 'always' | 'never';
export type Route = 'exec' | 'ephemeral';

export const DEBUG_CONTAINER_PREFIX = 'wand-debug-';


/** A Python process the exec'd agent may not trace, for a reason the ephemeral route overcomes. */
export function blockedForExec(p: ProcessRecord): boolean {
  return p.isPython && p.reasonCode === 'permission-denied' && overcomeByEphemeral(p.traceDeniedCode ?? 'unknown');
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

/**
 * The process whose root the agent works in (PlanOptions.rootPid): the app as the exec'd agent
 * listed it — the one it may not trace, else a Python process — since PID 1 is pause's in a pod
 * that shares one PID namespace (spec.shareProcessNamespace). Without a listing: PID 1.
 */
export function appProcessOf(listed: readonly ProcessRecord[] | undefined): ProcessRecord | undefined {
  return listed?.find(blockedForExec) ?? listed?.find((p) => p.isPython);
}

/** A running debugger container of ours in the pod, aimed at `container`, but the `ending` ones. */
export function runningDebugContainer(pod: Pod, container: string, ending: ReadonlySet<string> = new Set()): string | undefined {
  const running = new Set((pod.status?.ephemeralContainerStatuses ?? []).filter((s) => s.state?.running).map((s) => s.name));
  return (pod.spec.ephemeralContainers ?? []).find(
    (c) => c.name.startsWith(DEBUG_CONTAINER_PREFIX) && c.targetContainerName === container && running.has(c.name) && !ending.has(c.name),
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
  /** a process of the target container whose root the agent works in (default 1) */
  rootPid?: number;
  /** debugger containers whose agent's attach ended: still running for a moment, never reused */
  ending?: ReadonlySet<string>;
  /** the new container's name (default: a new one) */
  name?: string;
}

/** kubectl's minor version assumed until kubectl refuses --custom (see openEphemeralSession) */
const LATEST_MINOR = Number.MAX_SAFE_INTEGER;

function newDebugContainerName(): string {
  return `${DEBUG_CONTAINER_PREFIX}${randomBytes(3).toString('hex')}`;
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
  const existing = runningDebugContainer(pod, container, opts.ending);
  if (existing) {
    return { argv: ['exec', '-i', podName, '-c', existing, '-n', namespace, '--', 'python3', '-c', ephemeralBootstrap(opts.rootPid ?? 1)], name: existing, reused: true, cleanup: () => undefined };
  }
  const name = opts.name ?? newDebugContainerName();
  const image = opts.image ?? pod.spec.containers.find((c) => c.name === container)?.image ?? '';
  const nonRoot = appRunsAsNonRoot(pod, container, opts.appUid);
  // without --custom, --debug-image is the user's way out (an image whose user is root)
  if (nonRoot && !hasCustom(opts.kubectlMinor) && !opts.image) {
    throw new EphemeralRefused(`the app runs as non-root and kubectl 1.${opts.kubectlMinor} cannot run the debugger container as root (no --custom)`, EPHEMERAL.noCustom, 'NoCustomProfile');
  }
  const custom: string[] = [];
  let dir: string | undefined;
  if (hasCustom(opts.kubectlMinor)) {
    dir = mkdtempSync(path.join(tmpdir(), 'wand-debug-'));
    const file = path.join(dir, 'custom.json');
    writeFileSync(file, JSON.stringify(customProfile(pod, container, nonRoot)), { mode: 0o600 });
    custom.push('--custom', file);
  }
  const argv = [
    'debug', podName, '-n', namespace, '--target', container, '--profile', 'general', '--image', image, '-c', name, '-i',
    ...custom, '--', 'python3', '-c', ephemeralBootstrap(opts.rootPid ?? 1),
  ];
  return { argv, name, reused: false, cleanup: () => dir && rmSync(dir, { recursive: true, force: true }) };
}

/**
 * What --custom adds to the debugger container. stdinOnce: the runtime closes the container's stdin
 * when our attach's stdin ends (containerd internal/cri/io/container_io.go Attach closes it for
 * StdinOnce without a TTY), so the agent sees end of input and ends — closing what it injected —
 * even when the CLI was killed and could not send `end`; kubectl debug never sets it itself
 * (kubectl/pkg/cmd/debug/debug.go generateDebugContainer sets Stdin only). runAsUser 0 for a
 * non-root app (its capabilities would not be effective otherwise, kubernetes/kubernetes#56374),
 * runAsNonRoot: false only where the pod sets it, as kubectl's own warning suggests.
 */
function customProfile(pod: Pod, container: string, nonRoot: boolean): { stdinOnce: true; securityContext?: Record<string, unknown> } {
  if (!nonRoot) return { stdinOnce: true };
  return { stdinOnce: true, securityContext: { runAsUser: 0, ...(enforcesNonRoot(pod, container) ? { runAsNonRoot: false } : {}) } };
}

/** The cluster refused the ephemeral route: nothing of ours was added to the pod. */
export class EphemeralRefused extends WandError {
  constructor(message: string, remedy: string, code: string) {
    super(message, remedy, 'failure', code);
  }
}

/** Is the app forced to run as non-root (the debugger container then needs runAsNonRoot: false too)? */
function enforcesNonRoot(pod: Pod, container: string): boolean {
  const spec = pod.spec.containers.find((c) => c.name === container);
  return spec?.securityContext?.runAsNonRoot ?? pod.spec.securityContext?.runAsNonRoot ?? false;
}

/** Why `kubectl debug` failed, said precisely; other failures as they are. */
export function explainDebugFailure(error: unknown, namespace: string): unknown {
  const text = error instanceof Error ? `${error.message}\n${error instanceof KubeError ? error.stderr : ''}` : String(error);
  const psa = /violates PodSecurity "(\w+):[^"]*"(?:: (.*))?/.exec(text);
  if (psa) {
    return new EphemeralRefused(`Pod Security "${psa[1]}" in namespace "${namespace}" refuses the debugger container${psa[2] ? `: ${psa[2].split('\n')[0]}` : ''}`, EPHEMERAL.podSecurity(namespace, psa[1]!), 'PodSecurityRefused');
  }
  if (error instanceof Forbidden && /ephemeralcontainers/.test(text)) {
    return new EphemeralRefused(`forbidden: cannot patch pods/ephemeralcontainers in namespace "${namespace}" (kubectl debug adds the debugger container that way)`, EPHEMERAL.rbac(namespace), 'EphemeralForbidden');
  }
  if (/ephemeralcontainers.*(not found|could not find)|the server could not find the requested resource|EphemeralContainers.*disabled/i.test(text)) {
    return new EphemeralRefused('this cluster does not serve ephemeral containers', EPHEMERAL.unsupported, 'EphemeralUnsupported');
  }
  return error;
}

export interface EphemeralSession {
  session: AgentSession;
  name: string;
  reused: boolean;
}

/**
 * Starts (or reuses) the debugger container in `pod` and the agent in it. `listed`: what the
 * exec'd agent saw (the app's uid decides --custom). `onPlanned` hears the container's name first.
 */
export async function openEphemeralSession(
  kubectl: Kubectl,
  pod: Pod,
  container: string,
  opts: {
    agentSource: string;
    debugImage?: string;
    startTimeoutMs?: number;
    listed?: readonly ProcessRecord[];
    ending?: ReadonlySet<string>;
    onPlanned?(name: string, reused: boolean): void;
  },
): Promise<EphemeralSession> {
  const namespace = pod.metadata.namespace ?? '';
  const app = appProcessOf(opts.listed);
  // `pod` was read by the caller moments ago: its ephemeral containers say whether one of ours
  // runs. The PIDs kubectl exec saw are the debugger container's too: it joins the same PID namespace.
  const planOptions = { image: opts.debugImage, appUid: app?.uid, ending: opts.ending, name: newDebugContainerName(), ...(app ? { rootPid: app.pid } : {}) };
  const start = async (minor: number): Promise<EphemeralSession> => {
    const plan = planDebugContainer(pod, namespace, container, { ...planOptions, kubectlMinor: minor });
    try {
      const session = await openAgentSession(
        kubectl,
        { namespace, pod: pod.metadata.name, container: plan.name },
        { agentSource: opts.agentSource, startTimeoutMs: opts.startTimeoutMs, argv: plan.argv },
      );
      return { session, name: plan.name, reused: plan.reused };
    } finally {
      plan.cleanup();
    }
  };
  const reusing = runningDebugContainer(pod, container, opts.ending);
  opts.onPlanned?.(reusing ?? planOptions.name, reusing !== undefined);
  try {
    return await startWithCustom(kubectl, start).catch(async (error: unknown) => {
      // the container shown running had just ended (its agent's session was ending): one of our own
      if (!(reusing && error instanceof ContainerNotFound && error.container === reusing)) throw error;
      planOptions.ending = new Set([...(opts.ending ?? []), reusing]);
      opts.onPlanned?.(planOptions.name, false);
      return startWithCustom(kubectl, start);
    });
  } catch (error) {
    throw explainDebugFailure(error, namespace);
  }
}

/**
 * --custom first, as kubectl 1.31+ has it: no `kubectl version` on the way; an older kubectl
 * refuses the flag before it calls the API server, and then its version decides.
 */
function startWithCustom<T>(kubectl: Kubectl, start: (minor: number) => Promise<T>): Promise<T> {
  return start(LATEST_MINOR).catch(async (error: unknown) => {
    if (!(error instanceof KubeError && /unknown flag: --custom/.test(error.stderr))) throw error;
    return start(await kubectlMinor(kubectl));
  });
}
