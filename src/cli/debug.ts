/**
 * `kubectl wand debug [TARGET] [-c C] [--pod P] [--pid N] [--port 5679] [--local-port N]
 *  [--timeout S] [--wait-for-client] [--no-forward] [--debugpy-from DIR] [--vscode[=PATH]] [-o json]`
 */
import type { Argv, CommandModule } from 'yargs';
import { loadAgentSource } from '../kube/agent-runner';
import { parseKubectlDuration } from '../kube/kubectl';
import { DebugSession, justMyCodeFor, type DebugEvent } from '../kube/debug-session';
import { resolvePods } from '../kube/targets';
import { explainAgentError } from '../ui/agent-errors';
import { createDebugRenderer } from '../ui/debug-view';
import { UsageError } from '../ui/errors';
import { writeLaunchJson, launchSnippet } from '../ui/editor-config';
import { chooseProcessesOf, choosePodOf, type ChooseFlags } from './choose-target';
import { withGlobalFlags, withTargetFlags } from './options';

interface DebugArgs extends ChooseFlags {
  port: number;
  'local-port'?: number;
  timeout: number;
  'wait-for-client': boolean;
  forward: boolean;
  'debugpy-from'?: string;
  vscode?: string;
  output: 'text' | 'json';
}

function builder(y: Argv): Argv<DebugArgs> {
  return withGlobalFlags(withTargetFlags(y))
    .option('pod', { type: 'string', describe: 'Debug this pod of the target (default: the newest ready one)' })
    .option('pid', { type: 'number', describe: 'Debug this process (default: the worker that serves requests)' })
    .option('port', { type: 'number', default: 5679, describe: 'Port debugpy listens on in the pod (127.0.0.1 only); worker i gets port+i' })
    .option('local-port', { type: 'number', describe: 'Local port of the forward (default: same as --port; 0 picks free ports)' })
    .option('timeout', { type: 'number', default: 30, describe: 'Seconds to wait for the process to run the injected code' })
    .option('wait-for-client', { type: 'boolean', default: false, describe: 'Pause the process until the editor attaches' })
    .option('forward', { type: 'boolean', default: true, describe: 'Forward the port(s) locally (--no-forward to skip)' })
    .option('debugpy-from', { type: 'string', describe: 'Directory containing a debugpy package to copy into images without one' })
    .option('vscode', { type: 'string', describe: 'Write the attach configuration into .vscode/launch.json (or the given file or folder)' })
    .option('output', { alias: 'o', choices: ['text', 'json'] as const, default: 'text' as const, describe: 'json: one event per line on stdout' })
    .check(validate)
    .example('$0 debug svc/api -n shop', 'Attach to the worker behind a Service, forward 127.0.0.1:5679')
    .example('$0 debug deploy/web --pid 7 --local-port 0 -o json', 'A given process, free local port, events as JSON') as Argv<DebugArgs>;
}

/** kubectl exec does not apply --request-timeout to a hanging upgrade: bound the agent start by it. */
function startTimeoutFor(requestTimeout: string | undefined): number | undefined {
  const ms = requestTimeout === undefined ? undefined : parseKubectlDuration(requestTimeout);
  return ms ? ms + 5000 : undefined;
}

function isPort(n: number | undefined, min: number): boolean {
  return n === undefined || (Number.isInteger(n) && n >= min && n <= 65535);
}

function validate(args: DebugArgs): boolean {
  if (!isPort(args.port, 1)) throw new UsageError(`--port must be a whole number from 1 to 65535, not ${args.port}`);
  if (!isPort(args['local-port'], 0)) throw new UsageError(`--local-port must be a whole number from 0 to 65535, not ${args['local-port']}`);
  if (args.pid !== undefined && !(Number.isInteger(args.pid) && args.pid > 0)) throw new UsageError('--pid must be a process ID (a positive whole number)');
  if (!(args.timeout > 0)) throw new UsageError('--timeout must be a positive number of seconds');
  return true;
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

async function handler(args: DebugArgs): Promise<void> {
  const json = args.output === 'json';
  const render = createDebugRenderer({ json, out: process.stdout, err: process.stderr });
  const chosenPod = await choosePodOf(args);
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
    debugpyFrom: args['debugpy-from'],
    agentSource: loadAgentSource(),
    startTimeoutMs: startTimeoutFor(args['request-timeout']),
    choose: (listed) => chooseProcessesOf(listed, { pid: args.pid }, args.pid === undefined),
    findPods: () => resolvePods(kubectl, namespace, target),
    emit,
  });
  render({ event: 'pod-chosen', pod: chosenPod.pod.metadata.name, reason: chosenPod.reason });
  const stop = stopRequested();
  // Ctrl-C before "ready" stops cleanly too: the terminal's SIGINT also reaches our kubectl
  // children, whose deaths must not be reported as the session's failure.
  let stopping = false;
  void stop.then(() => (stopping = true));
  const starting = session.start(chosenPod.pod);
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
  await session.stop();
  await lastVscode.catch(() => undefined);
  render({ event: 'stopped' });
  if (outcome instanceof Error) throw explainAgentError(outcome);
}

export const debugCommand: CommandModule<object, DebugArgs> = {
  command: 'debug [target]',
  describe: 'Inject debugpy into a live Python process, forward its port, and tell the editor how to attach',
  builder,
  handler,
};
