/**
 * A real DAP client session against a listening debugpy: set one breakpoint, make the program hit
 * it, read the stopped frame, evaluate an expression there, continue, and detach without killing
 * the debuggee. Request order is the one that works with debugpy 1.8.20 (see
 * shared/notes/python-remote-debug.md): the attach response only arrives after configurationDone.
 */
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import * as net from 'node:net';

export interface BreakpointRun {
  /** local port where debugpy (or a port-forward to it) listens */
  port: number;
  host?: string;
  /** path of the source file as the debuggee sees it, e.g. /app/main.py */
  file: string;
  line: number;
  /** makes the debuggee run the line (e.g. an HTTP request); settles only after `continue` */
  trigger: () => Promise<unknown>;
  /** evaluated in the stopped frame */
  evaluate: string;
  /** limit for each step (connect, each request, each awaited event) */
  timeoutMs?: number;
}

export interface BreakpointHit {
  stoppedLine: number;
  stoppedPath: string | undefined;
  /** the `result` string of the evaluate response */
  evaluated: string;
  /** whether trigger() resolved after the debuggee was continued */
  requestCompleted: boolean;
}

/** debugpy's attach arguments (DebugProtocol leaves them adapter-specific) */
interface DebugpyAttachArguments extends DebugProtocol.AttachRequestArguments {
  justMyCode: boolean;
  connect: { host: string; port: number };
}

class StepTimeout extends Error {}

/** DebugClient over a socket we own (connect() is protected; start(port) is the same server mode) */
class SocketDebugClient extends DebugClient {
  constructor(socket: net.Socket, timeoutMs: number) {
    super('unused', 'unused', 'python');
    this.defaultTimeout = timeoutMs;
    this.connect(socket, socket);
  }
}

function within<T>(step: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StepTimeout(`DAP step '${step}' timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function connect(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return within(
    `connect ${host}:${port}`,
    timeoutMs,
    new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect(port, host);
      socket.once('connect', () => resolve(socket));
      socket.once('error', reject);
    }),
  );
}

/** a promise that never rejects unhandled: rejection is captured and re-raised on await */
function settled<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

export async function attachAndHitBreakpoint(run: BreakpointRun): Promise<BreakpointHit> {
  const host = run.host ?? '127.0.0.1';
  const ms = run.timeoutMs ?? 15_000;
  // Our own socket rather than start(port): start(port) leaves socket errors unhandled (a refused
  // connection throws out of the event loop and its promise never settles) and disables timeouts.
  const socket = await connect(host, run.port, ms);
  let socketError = '';
  socket.on('error', (err) => (socketError = `: ${err.message}`));
  const closed = new Promise<never>((_, reject) => {
    socket.once('close', () => reject(new Error(`debug adapter at ${host}:${run.port} closed the connection${socketError}`)));
  });
  closed.catch(() => undefined);
  const step = <T>(name: string, promise: Promise<T>): Promise<T> => within(name, ms, Promise.race([promise, closed]));
  const dc = new SocketDebugClient(socket, ms);

  let trigger: Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> | undefined;
  try {
    await step('initialize', dc.initializeRequest({ adapterID: 'debugpy', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true }));
    const initialized = dc.waitForEvent('initialized', ms);
    const attachArgs: DebugpyAttachArguments = { justMyCode: false, connect: { host, port: run.port } };
    const attached = settled(dc.attachRequest(attachArgs));
    await step('initialized event', initialized);

    const breakpoints = await step(
      'setBreakpoints',
      dc.setBreakpointsRequest({ source: { path: run.file }, breakpoints: [{ line: run.line }] }),
    );
    const bp = breakpoints.body.breakpoints[0];
    if (!bp?.verified) {
      throw new Error(`breakpoint ${run.file}:${run.line} not verified: ${bp?.message ?? 'no breakpoint returned'}`);
    }
    await step('configurationDone', dc.configurationDoneRequest());
    const attach = await step('attach', attached);
    if (!attach.ok) throw attach.error;

    const stopped = dc.waitForEvent('stopped', ms) as Promise<DebugProtocol.StoppedEvent>;
    trigger = settled(Promise.resolve().then(run.trigger));
    const stop = await step('stopped event', stopped);
    const threadId = stop.body.threadId;
    if (threadId === undefined) throw new Error(`stopped event without threadId (reason ${stop.body.reason})`);

    const trace = await step('stackTrace', dc.stackTraceRequest({ threadId, startFrame: 0, levels: 1 }));
    const frame = trace.body.stackFrames[0];
    if (!frame) throw new Error('stopped thread has no stack frame');
    const evaluated = await step(
      'evaluate',
      dc.evaluateRequest({ expression: run.evaluate, frameId: frame.id, context: 'watch' }),
    );
    // one hit only: a trigger that sends more requests (e.g. to find the right worker) must not
    // park them on the breakpoint while we wait for the first one to finish
    await step('clear breakpoints', dc.setBreakpointsRequest({ source: { path: run.file }, breakpoints: [] }));
    await step('continue', dc.continueRequest({ threadId }));

    const outcome = await within('trigger after continue', ms, trigger).catch((err: unknown) => {
      if (err instanceof StepTimeout) return { ok: false as const, error: err };
      throw err;
    });
    return {
      stoppedLine: frame.line,
      stoppedPath: frame.source?.path,
      evaluated: evaluated.body.result,
      requestCompleted: outcome.ok,
    };
  } finally {
    // Detach but leave the debuggee (and debugpy's listener) running; never hang here.
    const disconnect = dc.disconnectRequest({ terminateDebuggee: false });
    await within('disconnect', Math.min(ms, 5_000), Promise.race([disconnect, closed])).catch(() => undefined);
    socket.destroy();
    if (trigger) await within('trigger settle', ms, trigger).catch(() => undefined);
  }
}

export interface HeldAtBreakpoint {
  stoppedLine: number;
  /** settles when the request that stopped completes (after whoever resumes it) */
  trigger: Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }>;
  /** resolves when the adapter closed our connection (e.g. the listener was closed) */
  adapterClosed: Promise<void>;
  /** drop the connection without a DAP disconnect, as an editor that is killed */
  destroy(): void;
}

/**
 * Like attachAndHitBreakpoint, but leaves the debuggee stopped and the editor attached: for what
 * happens to a held request when the session ends under it.
 */
export async function attachAndHoldAtBreakpoint(run: Omit<BreakpointRun, 'evaluate'>): Promise<HeldAtBreakpoint> {
  const host = run.host ?? '127.0.0.1';
  const ms = run.timeoutMs ?? 15_000;
  const socket = await connect(host, run.port, ms);
  socket.on('error', () => undefined);
  const adapterClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const step = <T>(name: string, promise: Promise<T>): Promise<T> => within(name, ms, promise);
  const dc = new SocketDebugClient(socket, ms);
  try {
    await step('initialize', dc.initializeRequest({ adapterID: 'debugpy', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true }));
    const initialized = dc.waitForEvent('initialized', ms);
    const attached = settled(dc.attachRequest({ justMyCode: false, connect: { host, port: run.port } } as DebugpyAttachArguments));
    await step('initialized event', initialized);
    const breakpoints = await step('setBreakpoints', dc.setBreakpointsRequest({ source: { path: run.file }, breakpoints: [{ line: run.line }] }));
    if (!breakpoints.body.breakpoints[0]?.verified) throw new Error(`breakpoint ${run.file}:${run.line} not verified`);
    await step('configurationDone', dc.configurationDoneRequest());
    const attach = await step('attach', attached);
    if (!attach.ok) throw attach.error;
    const stopped = dc.waitForEvent('stopped', ms) as Promise<DebugProtocol.StoppedEvent>;
    const trigger = settled(Promise.resolve().then(run.trigger));
    const stop = await step('stopped event', stopped);
    const trace = await step('stackTrace', dc.stackTraceRequest({ threadId: stop.body.threadId as number, startFrame: 0, levels: 1 }));
    return { stoppedLine: trace.body.stackFrames[0]?.line ?? -1, trigger, adapterClosed, destroy: () => socket.destroy() };
  } catch (error) {
    socket.destroy();
    throw error;
  }
}
