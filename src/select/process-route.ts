/** How `debug` would reach a listed process (pure: the pods listing says it per process). */
import type { ProcessRecord } from '../agent/contract';
import { overcomeByEphemeral } from './ephemeral';

/** `exec`: the agent in kubectl exec may trace it; `ephemeral`: only from a debugger container; null: neither. */
export type ProcessRoute = 'exec' | 'ephemeral' | null;

export function processRoute(p: Pick<ProcessRecord, 'isPython' | 'debuggable' | 'reasonCode' | 'traceDeniedCode'>): ProcessRoute {
  if (!p.isPython) return null;
  if (p.debuggable) return 'exec';
  return p.reasonCode === 'permission-denied' && overcomeByEphemeral(p.traceDeniedCode ?? 'unknown') ? 'ephemeral' : null;
}
