/**
 * A long-lived agent session: one `kubectl exec -i … -- python3 -c SESSION_BOOTSTRAP` per pod that
 * serves many requests at once (list, inject, exec, stack, doctor) and reports when watched
 * processes exit, so that following a reload costs no new exec and no polling. See the session
 * section of src/agent/contract.ts for the protocol.
 */
import {
  SESSION_BOOTSTRAP,
  type AgentEvent,
  type AgentRequest,
  type SessionEvent,
  type SessionRequest,
  type SessionRequestBody,
  type SessionResult,
} from '../agent/contract';
import { agentExecArgs, INTERPRETERS, isMissingInterpreter, parseEvent, type AgentTarget, type ResultFor } from './agent-runner';
import { KubeError, lastMeaningfulLine, Timeout, type KubectlCall } from '../kube/errors';
import { AgentError, NoPython } from './errors';
import { AGENT } from '../remedies';
import type { Kubectl, KubectlExit, KubectlProcess } from '../kube/kubectl';
import { collect, forEachLine } from '../kube/lines';

/** An event of one request: progress (`started`, `waiting`), then its `result` or `error`. */
export type RequestEvent = AgentEvent & { id: number };
/** What a watch reports: watched processes exited, then the process table as it changes. */
export type WatchChange = Extract<SessionEvent, { event: 'exited' | 'processes' }>;

export interface AgentSessionOptions {
  /** the agent's Python source (loadAgentSource()) */
  agentSource: string;
  /** every event of the session as it arrives, whatever request it belongs to */
  onEvent?(event: SessionEvent): void;
  /** how long the agent may take to start, per interpreter tried (default 30 s) */
  startTimeoutMs?: number;
  /** abandons the start: kubectl is killed at once (the agent has done nothing yet) */
  signal?: AbortSignal;
  /** the kubectl arguments that start the agent, when not `kubectl exec` (the ephemeral route): python3 only */
  argv?: readonly string[];
}

export interface SessionEnd {
  /** why the session ended; absent when close() ended it */
  error?: KubeError;
}

export interface AgentSession {
  readonly target: AgentTarget;
  /** the agent's Python version, e.g. "3.14.0" */
  readonly agentPython: string;
  /** the host name the agent runs on: the pod's (see expectedHostname in early-session.ts) */
  readonly hostname: string;
  /**
   * Runs one request; requests run concurrently in the agent. Rejects with AgentError on the
   * agent's `error` event, and with the session's end error if the session ends first.
   * Listeners must not throw: a throwing `onEvent` rejects the request.
   */
  request<R extends AgentRequest>(request: R, onEvent?: (event: RequestEvent) => void): Promise<ResultFor<R>>;
  /**
   * Replaces the watched set (the debugged workers and their managers; [] stops watching).
   * `onChange` gets this watch's `exited` and `processes` events until the next watch().
   * Resolves true once the agent watches, false if the session ended first; never rejects.
   */
  watch(pids: readonly number[], onChange: (change: WatchChange) => void): Promise<boolean>;
  /** Ends stdin (the agent removes its files and exits), kills kubectl after 2 s. */
  close(): Promise<void>;
  /** Settles when the exec ends for any reason (close(), pod deleted, connection dropped). */
  readonly closed: Promise<SessionEnd>;
}

/** The session's exec ended while requests were pending, or before close() was called. */
export class AgentSessionEnded extends KubeError {
  override readonly name = 'AgentSessionEnded';
  constructor(
    readonly pod: string,
    namespace: string,
    detail: string,
    call?: KubectlCall,
  ) {
    super(
      `the agent session in pod ${pod} ended: ${detail}`,
      AGENT.sessionEnded(pod, namespace),
      call,
    );
  }
}

const DEFAULT_START_TIMEOUT_MS = 30_000;
const CLOSE_GRACE_MS = 2_000;
/** stderr and stray stdout kept for error messages */
const KEPT_OUTPUT_CHARS = 64 * 1024;

type Interpreter = (typeof INTERPRETERS)[number];

/** The one-shot runner's exec arguments, with the bootstrap in place of `-` (the program on stdin). */
export function sessionExecArgs(target: AgentTarget, interpreter: Interpreter): string[] {
  return [...agentExecArgs(target, interpreter).slice(0, -1), '-c', SESSION_BOOTSTRAP];
}

/** Starts the agent in session mode (python3, else python) and resolves once it is ready. */
export async function openAgentSession(
  kubectl: Kubectl,
  target: AgentTarget,
  opts: AgentSessionOptions,
): Promise<AgentSession> {
  let lastCall: KubectlCall | undefined;
  for (const interpreter of opts.argv ? INTERPRETERS.slice(0, 1) : INTERPRETERS) {
    const session = new Session(kubectl, target, interpreter, opts);
    const start = await session.started;
    if (start.kind === 'ready') return session;
    if (start.kind === 'failed') {
      await session.closed;
      throw start.error;
    }
    lastCall = start.call;
  }
  throw new NoPython(target.pod, target.container, lastCall);
}

type StartOutcome =
  | { kind: 'ready' }
  | { kind: 'failed'; error: KubeError }
  | { kind: 'no-interpreter'; call: KubectlCall };

interface PendingRequest {
  op: SessionRequestBody['op'];
  resolve(result: SessionResult): void;
  reject(error: Error): void;
  onEvent?: (event: RequestEvent) => void;
}

class Session implements AgentSession {
  agentPython = '';
  hostname = '';
  readonly started: Promise<StartOutcome>;
  readonly closed: Promise<SessionEnd>;
  private readonly proc: KubectlProcess;
  private readonly pending = new Map<number, PendingRequest>();
  private nextId = 1;
  private watchId = 0;
  private onWatch: ((change: WatchChange) => void) | undefined;
  private onReady: (() => void) | undefined;
  private stderr = '';
  private otherStdout = '';
  private events = 0;
  private closing = false;
  private exit: KubectlExit | undefined;
  private ended: SessionEnd | undefined;
  private listenerError: unknown;

  constructor(
    private readonly kubectl: Kubectl,
    readonly target: AgentTarget,
    private readonly interpreter: Interpreter,
    private readonly opts: AgentSessionOptions,
  ) {
    // its own process group: it must outlive a Ctrl-C, to close the listeners (issue 15); on the
    // ephemeral route the `end` line it passes on ends the agent, and with it the debugger
    // container; when kubectl goes without it, only a stdinOnce container's stdin ends (ephemeral-route.ts).
    this.proc = kubectl.spawn(opts.argv ? [...opts.argv] : sessionExecArgs(target, interpreter), { stdin: 'pipe', ownProcessGroup: true });
    const stdin = this.proc.child.stdin;
    stdin?.on('error', () => undefined); // kubectl is gone: `closed` says why
    stdin?.write(`${Buffer.from(opts.agentSource, 'utf8').toString('base64')}\n`);
    const output = this.readOutput();
    this.closed = Promise.all([this.proc.exited, output]).then(([exit]) => this.finish(exit));
    this.started = this.waitUntilReady(opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  }

  request<R extends AgentRequest>(request: R, onEvent?: (event: RequestEvent) => void): Promise<ResultFor<R>> {
    // send() checked that the result's op is the request's
    return this.send(request, this.nextId++, onEvent) as Promise<ResultFor<R>>;
  }

  watch(pids: readonly number[], onChange: (change: WatchChange) => void): Promise<boolean> {
    const id = this.nextId++;
    // set before sending: the agent may report an exit right after its answer
    this.watchId = id;
    this.onWatch = onChange;
    return this.send({ op: 'watch', pids: [...pids] }, id).then(
      () => true,
      () => false,
    );
  }

  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.proc.child.stdin?.end('end\n');
      const term = setTimeout(() => this.proc.kill('SIGTERM'), CLOSE_GRACE_MS);
      const kill = setTimeout(() => this.proc.kill('SIGKILL'), 2 * CLOSE_GRACE_MS);
      await this.closed;
      clearTimeout(term);
      clearTimeout(kill);
    }
    await this.closed;
  }

  private send(body: SessionRequestBody, id: number, onEvent?: (event: RequestEvent) => void): Promise<SessionResult> {
    if (this.ended || this.closing) return Promise.reject(this.endError());
    const request: SessionRequest = { ...body, id };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { op: body.op, resolve, reject, onEvent });
      this.proc.child.stdin?.write(`${JSON.stringify(request)}\n`);
    });
  }

  private waitUntilReady(timeoutMs: number): Promise<StartOutcome> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        resolve({ kind: 'failed', error: new Timeout(timeoutMs, this.call(null), AGENT.noStart) });
        // nothing to end gracefully: the agent never started
        this.closing = true;
        this.proc.kill();
      }, timeoutMs);
      const abandon = () => {
        clearTimeout(timer);
        resolve({ kind: 'failed', error: new AgentSessionEnded(this.target.pod, this.target.namespace, 'its start was abandoned', this.call(null)) });
        this.closing = true;
        this.proc.kill();
      };
      this.opts.signal?.addEventListener('abort', abandon, { once: true });
      if (this.opts.signal?.aborted) abandon();
      this.onReady = () => {
        clearTimeout(timer);
        this.opts.signal?.removeEventListener('abort', abandon);
        resolve({ kind: 'ready' });
      };
      void this.closed.then((end) => {
        clearTimeout(timer);
        resolve(this.startFailure(end));
      });
    });
  }

  /** Why the exec ended before `ready`: no such interpreter (try the next one), or an error. */
  private startFailure(end: SessionEnd): StartOutcome {
    const exitCode = this.exit?.exitCode ?? null;
    if (isMissingInterpreter(this.interpreter, exitCode, this.stderr, this.otherStdout, this.events)) {
      return { kind: 'no-interpreter', call: this.call(exitCode) };
    }
    return { kind: 'failed', error: end.error ?? this.endError() };
  }

  private readOutput(): Promise<void> {
    const { stdout, stderr } = this.proc.child;
    const stdoutDone = stdout ? forEachLine(stdout, (line) => this.onLine(line)) : Promise.resolve();
    const stderrDone = stderr ? collect(stderr, (chunk) => (this.stderr = kept(this.stderr + chunk))) : Promise.resolve();
    return Promise.all([stdoutDone, stderrDone]).then(() => undefined);
  }

  private onLine(line: string): void {
    const event = parseSessionEvent(line);
    if (!event) {
      if (line.trim()) this.otherStdout = kept(`${this.otherStdout}${line}\n`);
      return;
    }
    this.events++;
    this.notify(() => this.opts.onEvent?.(event));
    if (event.event === 'ready') {
      this.agentPython = event.agentPython;
      this.hostname = event.hostname;
      this.onReady?.();
    } else if (event.event === 'exited' || event.event === 'processes') {
      if (event.id === this.watchId) this.notify(() => this.onWatch?.(event));
    } else if (event.id !== null) {
      this.deliver(event);
    }
  }

  /** Hands an event to its request: progress to its listener, the final event settles it. */
  private deliver(event: Exclude<SessionEvent, { event: 'ready' | 'exited' | 'processes' } | { id: null }>): void {
    const pending = this.pending.get(event.id);
    if (!pending) return;
    if (event.event === 'result' || event.event === 'error') this.pending.delete(event.id);
    try {
      pending.onEvent?.(event as RequestEvent); // watch requests have no listener
    } catch (error) {
      this.pending.delete(event.id);
      pending.reject(error as Error);
      return;
    }
    if (event.event === 'error') {
      const { code, message, stack, blockedIn, traceCode } = event;
      const extra = { ...(stack ? { threads: stack } : {}), ...(blockedIn ? { blockedIn } : {}), ...(traceCode ? { traceCode } : {}) };
      pending.reject(new AgentError(code, message, extra, this.call(null)));
    } else if (event.event === 'result') {
      if (event.result.op === pending.op) pending.resolve(event.result);
      else pending.reject(new AgentError('version-mismatch', `agent answered op "${event.result.op}" to a "${pending.op}" request`));
    }
  }

  /** Runs a session-wide listener; one that throws ends the session (`closed` reports it). */
  private notify(listener: () => void): void {
    try {
      listener();
    } catch (error) {
      this.listenerError ??= error;
      void this.close();
    }
  }

  private finish(exit: KubectlExit): SessionEnd {
    this.exit = exit;
    const end: SessionEnd = this.closing && this.listenerError === undefined ? {} : { error: this.exitError(exit) };
    this.ended = end;
    const reason = this.endError();
    for (const pending of this.pending.values()) pending.reject(reason);
    this.pending.clear();
    return end;
  }

  /** What ended the exec, when close() did not. */
  private exitError(exit: KubectlExit): KubeError {
    const call = this.call(exit.exitCode);
    const { pod, namespace } = this.target;
    if (this.listenerError !== undefined) {
      return new AgentSessionEnded(pod, namespace, `a listener failed: ${String(this.listenerError)}`, call);
    }
    if (exit.startError) return exit.startError;
    const remoteExit = /command terminated with exit code (\d+)/.exec(this.stderr);
    if (remoteExit) {
      const detail = lastMeaningfulLine(this.stderr);
      return new AgentSessionEnded(pod, namespace, `the agent exited with code ${remoteExit[1]}${detail ? `: ${detail}` : ''}`, call);
    }
    if (exit.exitCode === 0) {
      // The agent exits 0 by itself only on SIGTERM/SIGHUP or when its stdout is gone.
      return new AgentSessionEnded(pod, namespace, 'the agent was stopped (is the container shutting down?)', call);
    }
    return this.kubectl.failure(this.proc, exit, this.stderr, {
      pod,
      container: this.target.container,
      ...(this.target.containers ? { containers: this.target.containers } : {}),
    });
  }

  /** The error for requests made or pending when the session ends. */
  private endError(): KubeError {
    return this.ended?.error ?? new AgentSessionEnded(this.target.pod, this.target.namespace, 'it was closed', this.call(null));
  }

  private call(exitCode: number | null): KubectlCall {
    return { args: this.proc.args, exitCode, stderr: this.stderr };
  }
}

function parseSessionEvent(line: string): SessionEvent | undefined {
  const event: object | undefined = parseEvent(line);
  return event !== undefined && 'id' in event ? (event as SessionEvent) : undefined;
}

function kept(text: string): string {
  return text.length > KEPT_OUTPUT_CHARS ? text.slice(-KEPT_OUTPUT_CHARS) : text;
}
