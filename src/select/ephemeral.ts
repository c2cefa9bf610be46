/** Which refusals to trace the ephemeral route overcomes (pure: src/session/ephemeral-route.ts and doctor share it). */
import type { TraceDenialCode } from '../agent/contract';

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
