/**
 * What the e2e files share about a `kubectl wand debug` session on a scenario: its arguments, its
 * `ready` event as the tests read it, and a DAP client stopping on the scenario's breakpoint.
 */
import type { Scenario } from './apps';
import { attachAndHitBreakpoint, type BreakpointHit } from './dap';
import { untilHeld } from './http-in-pod';
import type { WandEnv } from './wand-env';

/** `debug svc/NAME -n NAMESPACE -o json --local-port 0`, then `extra` */
export function debugArgs(s: Pick<Scenario, 'service' | 'namespace'>, extra: string[] = []): string[] {
  return ['debug', `svc/${s.service}`, '-n', s.namespace, '-o', 'json', '--local-port', '0', ...extra];
}

export interface SessionTarget {
  pid: number;
  localPort: number;
  remotePort: number;
  reused: boolean;
}

/** the fields of `ready` (and of `reinjected` and `reconnected`) that the tests read */
export interface ReadyEvent {
  event: string;
  namespace: string;
  pod: string;
  container: string;
  targets: SessionTarget[];
  remoteRoot: string;
  injector: string | null;
  debugpyVersion: string | null;
}

/**
 * A DAP client on `target` (the first one by default) stops on the scenario's breakpoint, made to
 * run by GETs from inside the pod; with several workers behind the port, until one is held.
 */
export function hitScenarioBreakpoint(
  env: WandEnv,
  s: Scenario,
  ev: Pick<ReadyEvent, 'pod'> & { targets: Array<Pick<SessionTarget, 'localPort'>> },
  opts: { target?: Pick<SessionTarget, 'localPort'>; timeoutMs?: number } = {},
): Promise<BreakpointHit> {
  const request = (): Promise<string> => env.getApp(s, ev.pod, 60_000);
  return attachAndHitBreakpoint({
    port: (opts.target ?? ev.targets[0]!).localPort,
    file: s.appFile,
    line: s.breakpointLine,
    evaluate: s.evaluate,
    timeoutMs: opts.timeoutMs ?? 30_000,
    trigger: () => (ev.targets.length > 1 ? untilHeld(request) : request()),
  });
}
