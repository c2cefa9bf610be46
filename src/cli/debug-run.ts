/** What `kubectl wand debug` does once its arguments are parsed (the definition is in ./debug). */
import { parseKubectlDuration } from '../kube/kubectl';
import { loadAgentSource } from '../session/agent-runner';
import { debugTarget, type DebugRequest } from '../session/debug';
import { terminalChooser } from '../ui/chooser';
import { createDebugRenderer } from '../ui/debug-view';
import { launchJsonFollower } from '../ui/editor-config';
import { targetContext } from './context';
import type { DebugArgs } from './debug';

/** kubectl exec does not apply --request-timeout to a hanging upgrade: bound the agent start by it. */
function startTimeoutFor(requestTimeout: string | undefined): number | undefined {
  const ms = requestTimeout === undefined ? undefined : parseKubectlDuration(requestTimeout);
  return ms ? ms + 5000 : undefined;
}

/**
 * Resolves when the user asks to stop (Ctrl-C, SIGTERM, SIGHUP). The handlers stay installed: a
 * second Ctrl-C while stopping must not kill us before the pod is cleaned (stopping takes < 2 s).
 */
function stopRequested(): Promise<string> {
  return new Promise((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => resolve(signal));
  });
}

/**
 * After a stop during start-up the pod is clean, but the abandoned start (its wait for the
 * injection) may still hold timers: do not let them keep us alive.
 */
function exitSoon(): void {
  setTimeout(() => process.exit(), 500).unref();
}

function requestOf(args: DebugArgs): DebugRequest {
  return {
    pod: args.pod,
    pid: args.pid,
    allPods: args['all-pods'],
    container: args.container,
    port: args.port,
    localPort: args['local-port'] ?? null,
    forward: args.forward,
    timeoutSeconds: args.timeout,
    waitForClient: args['wait-for-client'],
    keepListening: args['keep-listening'],
    debugpyFrom: args['debugpy-from'],
    ephemeral: args.ephemeral,
    debugImage: args['debug-image'],
    agentSource: loadAgentSource(),
    startTimeoutMs: startTimeoutFor(args['request-timeout']),
  };
}

export async function runDebug(args: DebugArgs): Promise<void> {
  const render = createDebugRenderer({ json: args.output === 'json', out: process.stdout, err: process.stderr });
  const request = requestOf(args);
  const context = await targetContext(args);
  const vscode = args.vscode === undefined ? undefined : launchJsonFollower(args.vscode || '.vscode', (file) => render({ event: 'vscode-written', file }));
  const end = await debugTarget(context, request, terminalChooser(), (event) => {
    render(event);
    vscode?.onEvent(event);
  }, stopRequested);
  await vscode?.written();
  render({ event: 'stopped', closed: end.closed });
  if (end.beforeReady) exitSoon();
  if (end.error) throw end.error;
}
