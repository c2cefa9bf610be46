/**
 * What a container's processes may do, decided as a kubelet + containerd node decides it, and the
 * node's tracing policy (Yama's ptrace_scope). The runtime applies the result through the
 * enter-container helper (native/enter-container.c) on every container start and every exec.
 *
 * Sources:
 * - kubernetes pkg/securitycontext/util.go DetermineEffectiveSecurityContext: the pod-level
 *   securityContext contributes runAsUser, runAsGroup, runAsNonRoot (and SELinux/Windows options);
 *   the container's own fields win. capabilities, privileged, allowPrivilegeEscalation exist only
 *   at container level.
 * - kubernetes pkg/kubelet/kuberuntime/security_context_others.go verifyRunAsNonRoot: the
 *   refusal messages; kuberuntime_container.go reports them as CreateContainerConfigError.
 * - kubernetes pkg/securitycontext AddNoNewPrivileges: no_new_privs only when
 *   allowPrivilegeEscalation is explicitly false.
 * - containerd pkg/oci/spec.go defaultUnixCaps(): the 14 default capabilities; internal/cri/opts
 *   (pkg/cri/opts/spec_linux.go) WithCapabilities: add ALL, then drop ALL, then each added, then
 *   each dropped name (CRI names carry no CAP_ prefix); WithPrivileged: every capability.
 */
import * as fs from 'node:fs';

/** The securityContext fields the runtime honours, after the pod/container merge. */
export interface EffectiveSecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
}

type PodLevel = Pick<EffectiveSecurityContext, 'runAsUser' | 'runAsGroup' | 'runAsNonRoot'>;

/** Yama's kernel.yama.ptrace_scope: 0 classic, 1 relational, 2 CAP_SYS_PTRACE only, 3 no attach */
export type PtraceScope = 0 | 1 | 2 | 3;

export function parsePtraceScope(value: unknown): PtraceScope {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 3) throw new Error(`ptrace scope must be 0, 1, 2 or 3 (got ${String(value)})`);
  return n as PtraceScope;
}

/** DetermineEffectiveSecurityContext, restricted to the fields above. */
export function effectiveSecurityContext(pod: PodLevel | undefined, container: EffectiveSecurityContext | undefined): EffectiveSecurityContext {
  const fromPod: EffectiveSecurityContext = { runAsUser: pod?.runAsUser, runAsGroup: pod?.runAsGroup, runAsNonRoot: pod?.runAsNonRoot };
  const merged: EffectiveSecurityContext = { ...fromPod };
  for (const [key, value] of Object.entries(container ?? {}) as Array<[keyof EffectiveSecurityContext, unknown]>) {
    if (value !== undefined && value !== null) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}

/** Linux capability numbers (include/uapi/linux/capability.h) */
const CAPABILITY_BITS: Record<string, number> = {
  CHOWN: 0, DAC_OVERRIDE: 1, DAC_READ_SEARCH: 2, FOWNER: 3, FSETID: 4, KILL: 5, SETGID: 6, SETUID: 7,
  SETPCAP: 8, LINUX_IMMUTABLE: 9, NET_BIND_SERVICE: 10, NET_BROADCAST: 11, NET_ADMIN: 12, NET_RAW: 13,
  IPC_LOCK: 14, IPC_OWNER: 15, SYS_MODULE: 16, SYS_RAWIO: 17, SYS_CHROOT: 18, SYS_PTRACE: 19, SYS_PACCT: 20,
  SYS_ADMIN: 21, SYS_BOOT: 22, SYS_NICE: 23, SYS_RESOURCE: 24, SYS_TIME: 25, SYS_TTY_CONFIG: 26, MKNOD: 27,
  LEASE: 28, AUDIT_WRITE: 29, AUDIT_CONTROL: 30, SETFCAP: 31, MAC_OVERRIDE: 32, MAC_ADMIN: 33, SYSLOG: 34,
  WAKE_ALARM: 35, BLOCK_SUSPEND: 36, AUDIT_READ: 37, PERFMON: 38, BPF: 39, CHECKPOINT_RESTORE: 40,
};

/** containerd pkg/oci/spec.go defaultUnixCaps() */
export const DEFAULT_CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID',
  'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
];

function bitOf(name: string): bigint | null {
  const bit = CAPABILITY_BITS[name.toUpperCase()];
  return bit === undefined ? null : 1n << BigInt(bit);
}

function setOf(names: string[]): bigint {
  return names.reduce((set, name) => set | (bitOf(name) ?? 0n), 0n);
}

/**
 * Every capability the runtime can hand out: containerd asks the kernel (cap_last_cap); here it is
 * also capped by what the cluster itself holds (this machine's root lacks CAP_SYS_RESOURCE).
 */
function allCapabilities(): bigint {
  const status = fs.readFileSync('/proc/self/status', 'latin1');
  return BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`);
}

/** the capability set of the container's processes, as containerd's CRI plugin computes it */
export function capabilitySet(sc: EffectiveSecurityContext): bigint {
  const all = allCapabilities();
  if (sc.privileged) return all;
  const add = sc.capabilities?.add ?? [];
  const drop = sc.capabilities?.drop ?? [];
  const isAll = (n: string): boolean => n.toUpperCase() === 'ALL';
  let set = setOf(DEFAULT_CAPABILITIES);
  if (add.some(isAll)) set = all;
  if (drop.some(isAll)) set = 0n;
  set |= setOf(add.filter((n) => !isAll(n)));
  set &= ~setOf(drop.filter((n) => !isAll(n)));
  return set & all;
}

/** the capabilities a process of this container holds effectively (none unless uid 0) */
export function effectiveCapabilities(sc: EffectiveSecurityContext, uid: number): bigint {
  return uid === 0 ? capabilitySet(sc) : 0n;
}

export interface PodIdentity {
  name: string;
  namespace: string;
  uid: string;
}

/** verifyRunAsNonRoot; our images carry no USER, so a container without runAsUser runs as root */
export function runAsNonRootError(sc: EffectiveSecurityContext, pod: PodIdentity, container: string): string | null {
  if (!sc.runAsNonRoot) return null;
  const where = `(pod: "${pod.name}_${pod.namespace}(${pod.uid})", container: ${container})`;
  if (sc.runAsUser !== undefined) return sc.runAsUser === 0 ? `container's runAsUser breaks non-root policy ${where}` : null;
  return `container has runAsNonRoot and image will run as root ${where}`;
}

export interface ProcessIdentity {
  uid: number;
  gid: number;
  securityContext?: EffectiveSecurityContext;
}

/**
 * The arguments of the enter-container helper that start one process of a container: its root
 * (the container's root for its command, /proc/PID/root for an exec), user, capabilities,
 * no_new_privs and the node's ptrace policy.
 */
export function enterContainerArgs(
  helper: string,
  proc: ProcessIdentity,
  where: { root: string; workingDir: string; ptraceScope: PtraceScope; yamaView: boolean },
): string[] {
  const sc = proc.securityContext ?? {};
  return [
    helper, '--root', where.root, '--wd', where.workingDir, '--uid', String(proc.uid), '--gid', String(proc.gid),
    '--caps', capabilitySet(sc).toString(16), '--ptrace-scope', String(where.ptraceScope),
    ...(sc.allowPrivilegeEscalation === false ? ['--no-new-privs'] : []),
    ...(where.yamaView ? ['--yama-view'] : []),
    '--',
  ];
}
