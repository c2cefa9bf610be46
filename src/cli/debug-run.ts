/** What `kubectl wand debug` does once its arguments are parsed (the definition is in ./debug). */
import { loadAgentSource } from '../kube/agent-runner';
import { parseKubectlDuration } from '../kube/kubectl';
import { DebugSession, justMyCodeFor, type DebugEvent } from '../kube/debug-session';
import { resolvePods } from '../kube/targets';
import { explainAgentError } from '../ui/agent-errors';
import { createDebugRenderer } from '../ui/debug-view';
import { writeLaunchJson, launchSnippet } from '../ui/editor-config';
import { EarlySession } from '../kube/early-session';
import { chooseProcessesOf, choosePodOf } from './choose-target';
import { targetContext, type TargetContext } from './context';
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

/** The agent exec started while the pods are resolved (see EarlySession); not when --pod names one. */
function openEarly(args: DebugArgs, context: TargetContext, agentSource: string, startTimeoutMs: number | undefined): EarlySession | undefined {
  if (args.pod !== undefined) return undefined;
  const { kubectl, namespace, target } = context;
  return EarlySession.open(kubectl, namespace, target, { agentSource, container: args.container, startTimeoutMs });
}

async function choosePodReleasing(args: DebugArgs, context: TargetContext, early: EarlySession | undefined) {
  try {
    return await choosePodOf(args, context);
  } catch (error) {
    await early?.release();
    throw error;
  }
}

export async function runDebug(args: DebugArgs): Promise<void> {
  const json = args.output === 'json';
  const render = createDebugRenderer({ json, out: process.stdout, err: process.stderr });
  const agentSource = loadAgentSource();
  const startTimeoutMs = startTimeoutFor(args['request-timeout']);
  const context = await targetContext(args);
  const early = openEarly(args, context, agentSource, startTimeoutMs);
  const chosenPod = await choosePodReleasing(args, context, early);
  const { kubectl, namespace, target } = chosenPod;
  let lastVscode: Promise<unknown> = Promise.resolve();
  const emit = (event: DebugEvent) => {
    render(event);
    if (args.vscode !== undefined && (event.event === 'ready' || event.event === 'reinjected' || event.event === 'reconnected')) {
      const snippet = launchSnippet({
        pod: event.pod,
        targets: event.targets.filter((t) => t.localPort !== null).map((t) => ({ pid: t.pid, localPort: t.localPort as number })),
        remoteRoot: event.remoteRoot,
        justMyCode: justMyCodeFor(event.remoteRoot),
      });
      lastVscode = lastVscode.then(() => writeLaunchJson(args.vscode || '.vscode', snippet)).then((file) => render({ event: 'vscode-written', file }));
    }
  };
  const session = new DebugSession(kubectl, {
    namespace,
    container: args.container,
    port: args.port,
    localPort: args['local-port'] ?? null,
    forward: args.forward,
    timeoutSeconds: args.timeout,
    waitForClient: args['wait-for-client'],
    keepListening: args['keep-listening'],
    debugpyFrom: args['debugpy-from'],
    agentSource,
    startTimeoutMs,
    choose: (listed) => chooseProcessesOf(listed, { pid: args.pid }, args.pid === undefined),
    findPods: () => resolvePods(kubectl, namespace, target),
    early,
    emit,
  });
  render({ event: 'pod-chosen', pod: chosenPod.pod.metadata.name, reason: chosenPod.reason });
  const stop = stopRequested();
  // Ctrl-C before "ready" stops cleanly too: the terminal's SIGINT also reaches our kubectl
  // children, whose deaths must not be reported as the session's failure.
  let stopping = false;
  void stop.then(() => (stopping = true));
  const starting = session.start(chosenPod.pod, chosenPod.pods);
  starting.catch(() => undefined);
  try {
    const first = await Promise.race([starting.then(() => 'started' as const), stop]);
    if (first !== 'started') {
      await session.stop();
      render({ event: 'stopped' });
      exitSoon();
      return;
    }
  } catch (error) {
    await session.stop();
    if (stopping) {
      render({ event: 'stopped' });
      exitSoon();
      return;
    }
    throw explainAgentError(error, args.pid);
  }
  const outcome = await Promise.race([stop, session.finished]);
  const closed = await session.stop();
  await lastVscode.catch(() => undefined);
  render({ event: 'stopped', closed });
  if (outcome instanceof Error) throw explainAgentError(outcome);
}
