/**
 * Errors of the engine that are not kubectl's own (those are in src/kube/errors.ts): a target
 * that cannot be, no pods, no Python, and what the in-pod agent reports.
 */
import type { AgentErrorCode, ThreadStack } from '../agent/contract';
import { UsageError } from '../errors';
import { KubeError, type KubectlCall } from '../kube/errors';
import { TARGET } from '../remedies';

/** TARGET, -l or -s as typed cannot be a target: a usage mistake. */
export class InvalidTarget extends UsageError {}

export class NoSelector extends KubeError {
  override readonly name = 'NoSelector';
  constructor(
    /** "service", "deployment", … */
    readonly kind: string,
    readonly objectName: string,
    call?: KubectlCall,
  ) {
    super(`${kind} ${objectName} has no selector`, TARGET.noSelector, call);
  }
}

export class NoPods extends KubeError {
  override readonly name = 'NoPods';
  constructor(
    readonly selector: string,
    readonly namespace: string,
    /** what the selector came from, e.g. "service/web" */
    readonly source: string | undefined,
    call?: KubectlCall,
  ) {
    super(
      `no pods match selector "${selector}" in namespace "${namespace}"${source ? ` (from ${source})` : ''}`,
      TARGET.noPods(namespace, selector),
      call,
    );
  }
}

export class NoPython extends KubeError {
  override readonly name = 'NoPython';
  constructor(
    readonly pod: string,
    readonly container: string,
    call?: KubectlCall,
  ) {
    super(`no Python in container ${container} of pod ${pod} (neither python3 nor python is on its PATH)`, TARGET.noPython, call);
  }
}

/**
 * An `error` event from the in-pod agent. `remedy` is empty: the command that met it explains it
 * (./failures.ts, with the remedies of src/remedies.ts agentRemedy).
 */
export class AgentError extends KubeError {
  override readonly name = 'AgentError';
  constructor(
    override readonly code: AgentErrorCode,
    message: string,
    readonly extra: { threads?: ThreadStack[]; blockedIn?: string } = {},
    call?: KubectlCall,
  ) {
    super(message, '', call);
  }
}
