/**
 * Runs the in-pod agent (assembled from src/agent/wand_agent/ by src/agent/assemble.ts) through `kubectl exec -i … -- python3 -` and turns its
 * JSON-lines stdout into events and one result. See src/agent/contract.ts for the protocol.
 */
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { assembleAgent } from '../agent/assemble';
import type { AgentEvent, AgentRequest, AgentResult } from '../agent/contract';
import { KubeError, KubectlCall, Timeout } from '../kube/errors';
import { AgentError, NoPython } from './errors';
import { AGENT } from '../remedies';
import type { Kubectl, KubectlExit, KubectlProcess } from '../kube/kubectl';
import { collect, forEachLine } from '../kube/lines';

export interface AgentTarget {
  namespace: string;
  /** a pod name, or TYPE/NAME for kubectl to pick the pod (see early-session.ts) */
  pod: string;
  /** '' lets kubectl pick its default container */
  container: string;
  /** all container names of the pod, to word ContainerNotFound */
  containers?: readonly string[];
}

export interface RunAgentOptions {
  /** the agent's Python source (loadAgentSource()) */
  agentSource: string;
  /** every event as it arrives, the final result/error included */
  onEvent?(event: AgentEvent): void;
  /** for the whole run, each interpreter attempt included */
  timeoutMs: number;
}

/** The result type that answers a request type. */
export type ResultFor<R extends AgentRequest> = Extract<AgentResult, { op: R['op'] }>;


/** Interpreters tried in order: a container may only have `python`. */
export const INTERPRETERS = ['python3', 'python'] as const;
type Interpreter = (typeof INTERPRETERS)[number];

/** The assembled agent next to this module once built (build/src/session → build/src/agent). */
export function agentSourcePath(): string {
  return path.join(__dirname, '../agent/agent.py');
}

/** Defined only in the single-executable bundle (scripts/package.ts), which embeds the assembled agent. */
declare const WAND_EMBEDDED_AGENT: string | undefined;

export function loadAgentSource(): string {
  if (typeof WAND_EMBEDDED_AGENT === 'string') return WAND_EMBEDDED_AGENT;
  const built = agentSourcePath();
  // from src/ (ts-jest, tsx) there is no built file: assemble the same program from the modules
  return existsSync(built) ? readFileSync(built, 'utf8') : assembleAgent();
}

/** The program fed to `python3 -`: the agent followed by one call of its main(). */
export function agentProgram(agentSource: string, request: AgentRequest): string {
  const encoded = Buffer.from(JSON.stringify(request), 'utf8').toString('base64');
  return `${agentSource}\nmain("${encoded}")\n`;
}

export function agentExecArgs(target: AgentTarget, interpreter: Interpreter): string[] {
  const container = target.container ? ['-c', target.container] : [];
  return ['exec', '-i', target.pod, ...container, '-n', target.namespace, '--', interpreter, '-'];
}

export async function runAgent<R extends AgentRequest>(
  kubectl: Kubectl,
  target: AgentTarget,
  request: R,
  opts: RunAgentOptions,
): Promise<ResultFor<R>> {
  const deadline = Date.now() + opts.timeoutMs;
  const program = agentProgram(opts.agentSource, request);
  let lastCall: KubectlCall | undefined;
  for (const interpreter of INTERPRETERS) {
    const remaining = Math.max(1, deadline - Date.now());
    const attempt = await runOnce(kubectl, target, interpreter, program, remaining, opts.onEvent);
    if (attempt.kind === 'result') return checkedResult(request, attempt.result);
    if (attempt.kind === 'failed') throw attempt.error;
    lastCall = attempt.call;
  }
  throw new NoPython(target.pod, target.container, lastCall);
}

type Attempt =
  | { kind: 'result'; result: AgentResult }
  | { kind: 'failed'; error: KubeError }
  | { kind: 'no-interpreter'; call: KubectlCall };

async function runOnce(
  kubectl: Kubectl,
  target: AgentTarget,
  interpreter: Interpreter,
  program: string,
  timeoutMs: number,
  onEvent: ((event: AgentEvent) => void) | undefined,
): Promise<Attempt> {
  const proc = kubectl.spawn(agentExecArgs(target, interpreter), { input: program, timeoutMs });
  const reader = readAgentOutput(proc, onEvent);
  const exit = await proc.exited;
  const output = await reader;
  const call: KubectlCall = { args: proc.args, exitCode: exit.exitCode, stderr: output.stderr };

  if (output.listenerError !== undefined) throw output.listenerError;
  if (output.final?.event === 'result') return { kind: 'result', result: output.final.result };
  if (output.final?.event === 'error') {
    const { code, message, stack, blockedIn } = output.final;
    const extra = { ...(stack ? { threads: stack } : {}), ...(blockedIn ? { blockedIn } : {}) };
    return { kind: 'failed', error: new AgentError(code, message, extra, call) };
  }
  if (exit.timedOut) return { kind: 'failed', error: new Timeout(timeoutMs, call, AGENT.noAnswer) };
  if (exit.startError) return { kind: 'failed', error: exit.startError };
  if (isMissingInterpreter(interpreter, exit.exitCode, output.stderr, output.otherStdout, output.events)) {
    return { kind: 'no-interpreter', call };
  }
  return { kind: 'failed', error: failureOf(kubectl, proc, exit, output, target) };
}

function failureOf(
  kubectl: Kubectl,
  proc: KubectlProcess,
  exit: KubectlExit,
  output: AgentOutput,
  target: AgentTarget,
): KubeError {
  const call: KubectlCall = { args: proc.args, exitCode: exit.exitCode, stderr: output.stderr };
  // The agent itself ran and died (a traceback, an old Python's SyntaxError…): not kubectl's fault.
  const remoteExit = /command terminated with exit code (\d+)/.exec(output.stderr);
  if (remoteExit) {
    return new AgentError('internal', `agent exited with code ${remoteExit[1]}: ${agentCrashLine(output.stderr)}`, {}, call);
  }
  if (exit.exitCode === 0) {
    return new AgentError('internal', 'agent exited without a result', {}, call);
  }
  return kubectl.failure(proc, exit, output.stderr, {
    pod: target.pod,
    container: target.container,
    ...(target.containers ? { containers: target.containers } : {}),
  });
}

function agentCrashLine(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !/^command terminated with exit code/.test(line));
  return lines[lines.length - 1] ?? 'no output';
}

/**
 * Did the exec fail because the interpreter is not in the container? Runtimes word it differently:
 * containerd `…OCI runtime exec failed: exec failed: unable to start container process: exec:
 * "python3": executable file not found in $PATH: unknown` (kubectl exit 1), docker/cri-dockerd the
 * same text on the stream then `command terminated with exit code 126`, crun `executable file
 * \`python3\` not found`, and a bare exit 127 when only the shell-style code comes back.
 */
export function isMissingInterpreter(
  interpreter: string,
  exitCode: number | null,
  stderr: string,
  otherStdout: string,
  eventCount: number,
): boolean {
  if (eventCount > 0 || exitCode === 0) return false;
  const text = `${stderr}\n${otherStdout}`;
  const quoted = `(?:"|\\\\"|\`|')${escapeRegExp(interpreter)}(?:"|\\\\"|\`|')`;
  const notFound = new RegExp(
    `${quoted}: executable file not found|executable file ${quoted} not found|` +
      `stat [^:]*\\b${escapeRegExp(interpreter)}: no such file or directory|` +
      `the file \\S*\\b${escapeRegExp(interpreter)} was not found`,
  );
  if (notFound.test(text)) return true;
  return /command terminated with exit code 127/.test(stderr) && !/Traceback/.test(text);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function checkedResult<R extends AgentRequest>(request: R, result: AgentResult): ResultFor<R> {
  if (result.op !== request.op) {
    throw new AgentError('version-mismatch', `agent answered op "${result.op}" to a "${request.op}" request`);
  }
  return result as ResultFor<R>;
}

interface AgentOutput {
  /** the last `result` or `error` event */
  final: Extract<AgentEvent, { event: 'result' | 'error' }> | undefined;
  events: number;
  /** stdout lines that are not JSON events (runtimes print exec failures there) */
  otherStdout: string;
  stderr: string;
  /** the first exception thrown by onEvent, rethrown once the run is over */
  listenerError: unknown;
}

/** Reads stdout line by line, delivering events as they arrive, and collects stderr. */
function readAgentOutput(proc: KubectlProcess, onEvent: ((event: AgentEvent) => void) | undefined): Promise<AgentOutput> {
  const output: AgentOutput = { final: undefined, events: 0, otherStdout: '', stderr: '', listenerError: undefined };
  const { stdout, stderr } = proc.child;
  const onLine = (line: string) => {
    const event = parseEvent(line);
    if (!event) {
      if (line.trim()) output.otherStdout += `${line}\n`;
      return;
    }
    output.events++;
    if (event.event === 'result' || event.event === 'error') output.final = event;
    try {
      onEvent?.(event);
    } catch (error) {
      // a throwing listener must not become an uncaught exception inside a stream handler
      output.listenerError ??= error;
    }
  };
  const stdoutDone = stdout ? forEachLine(stdout, onLine) : Promise.resolve();
  const stderrDone = stderr ? collect(stderr, (chunk) => (output.stderr += chunk)) : Promise.resolve();
  return Promise.all([stdoutDone, stderrDone]).then(() => output);
}

export function parseEvent(line: string): AgentEvent | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(trimmed);
    if (typeof value === 'object' && value !== null && typeof (value as { event?: unknown }).event === 'string') {
      return value as AgentEvent;
    }
  } catch {
    // not an event: kept as other output
  }
  return undefined;
}
