/** Which refusals to trace the ephemeral route overcomes (pure: src/session/ephemeral-route.ts and doctor share it). */
import type { ProcessRecord, TraceDenialCode } from '../agent/contract';

/** A root debugger container with CAP_SYS_PTRACE gets past these; not ptrace_scope 3, nor a kernel without process_vm_readv. */
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

export function overcomeByEphemeral(code: TraceDenialCode): boolean {
  return OVERCOME.has(code);
}

/**
 * Refusals under which the exec'd agent still read all that /proc says of the process: Yama
 * restricts attaching only (security/yama/yama_lsm.c yama_ptrace_access_check acts on
 * PTRACE_MODE_ATTACH), a seccomp filter only the agent's own syscalls. Another uid, missing
 * capabilities or a non-dumpable target also hide its environment (PTRACE_MODE_READ).
 */
const LISTING_HOLDS: ReadonlySet<TraceDenialCode> = new Set<TraceDenialCode>(['yama-scope-1', 'yama-scope-2', 'seccomp']);

/**
 * The exec'd agent's listing as an agent allowed to trace (a debugger container's) would make it,
 * from each refused process's `ifTraced`; undefined when that agent must list for itself.
 */
export function listedAsTracer(processes: readonly ProcessRecord[]): ProcessRecord[] | undefined {
  const seen: ProcessRecord[] = [];
  for (const p of processes) {
    if (p.reasonCode !== 'permission-denied') {
      seen.push(p);
      continue;
    }
    if (!p.ifTraced || !LISTING_HOLDS.has(p.traceDeniedCode ?? 'unknown')) return undefined;
    seen.push({ ...p, ...p.ifTraced, traceDeniedCode: null, ifTraced: null });
  }
  return seen;
}
