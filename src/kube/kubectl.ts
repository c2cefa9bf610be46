/**
 * The only module that starts processes (and the only one importing execa): kubectl, plus the one
 * local helper `runLocal`. It adds the user's global flags to every kubectl call, bounds every call
 * with a timeout, never uses a shell, and turns failures into the typed errors of ./errors.
 */
import type { ChildProcess } from 'child_process';
import execa, { type ExecaChildProcess } from 'execa';
import {
  KubeError,
  KubectlCall,
  KubectlNotFound,
  Timeout,
  FailureHint,
  KubectlFailed,
  mapKubectlFailure,
  namespaceOf,
} from './errors';

/** The kubectl global flags the user gave kubectl-wand, passed on to every call. */
export interface KubeContext {
  kubeconfig?: string;
  context?: string;
  cluster?: string;
  user?: string;
  as?: string;
  /** kubectl syntax: "30s", "2m", or plain seconds; "0" means kubectl's own default (none) */
  requestTimeout?: string;
  /** kubectl's -v level */
  verbosity?: string;
  /** -n/--namespace; when absent the kubeconfig context's namespace, else "default" */
  namespace?: string;
}

export interface RunOptions {
  /** overrides the default timeout for this call */
  timeoutMs?: number;
  /** written to kubectl's stdin, which is then closed (stdin is empty otherwise) */
  input?: string;
  /** add `-n NAMESPACE` (the resolved namespace) unless args already hold -n/--namespace */
  namespaced?: boolean;
  /** what the caller knows, to word errors better */
  hint?: FailureHint;
}

export interface SpawnOptions {
  /** written to stdin, which is then closed */
  input?: string;
  /** without `input`: 'pipe' keeps stdin open as `child.stdin`; default 'ignore' */
  stdin?: 'pipe' | 'ignore';
  /** kill the child after this long (none by default: spawned children are long-lived) */
  timeoutMs?: number;
  /**
   * Run it in a process group of its own, so that the terminal's Ctrl-C (sent to our whole
   * foreground group) does not end it: the debug session's agent exec must outlive the Ctrl-C to
   * close the listeners. If we die, its stdin ends and so does it.
   */
  ownProcessGroup?: boolean;
}

export interface KubectlOutput {
  stdout: string;
  stderr: string;
}

/** How a spawned kubectl ended. */
export interface KubectlExit {
  /** null when killed by a signal or never started */
  exitCode: number | null;
  signal: string | null;
  /** our SpawnOptions.timeoutMs expired and we killed it */
  timedOut: boolean;
  /** set when the child never started (kubectl missing or not executable) */
  startError?: KubectlNotFound;
}

/** A long-lived kubectl child (port-forward, streaming exec). */
export interface KubectlProcess {
  /** argv after the binary, global flags included */
  readonly args: readonly string[];
  /** the running child; stdout/stderr are pipes the caller must read */
  readonly child: ChildProcess;
  /** SpawnOptions.timeoutMs, when given */
  readonly timeoutMs: number | undefined;
  /** resolves once the child has exited and its pipes closed; never rejects */
  readonly exited: Promise<KubectlExit>;
  kill(signal?: NodeJS.Signals): void;
}

export interface Kubectl {
  /** the executable: $KUBECTL_PATH when set, else `kubectl` */
  readonly binary: string;
  /** number of kubectl processes started so far (run, json and spawn) */
  readonly calls: number;
  /** runs kubectl to completion; rejects with a KubeError */
  run(args: readonly string[], opts?: RunOptions): Promise<KubectlOutput>;
  /** runs kubectl and parses its stdout as JSON (add `-o json` yourself) */
  json<T>(args: readonly string[], opts?: RunOptions): Promise<T>;
  /** starts a long-lived child; args must carry `-n NS` themselves */
  spawn(args: readonly string[], opts?: SpawnOptions): KubectlProcess;
  /** -n when given, else the current context's namespace (one cached call), else "default" */
  namespace(): Promise<string>;
  /** the global flags added to every call */
  globalFlags(): string[];
  /** the error for a failed spawned child, from its exit and the stderr the caller collected */
  failure(proc: KubectlProcess, exit: KubectlExit, stderr: string, hint?: FailureHint): KubeError;
}

export interface KubectlOptions {
  /** sees the full argv (global flags included) of every kubectl started */
  onCall?: (args: string[]) => void;
  /** default per-call timeout, 20 s */
  defaultTimeoutMs?: number;
  /** environment for KUBECTL_PATH and for the children (default: process.env) */
  env?: NodeJS.ProcessEnv;
}

export const DEFAULT_TIMEOUT_MS = 20_000;
/** Extra time given over --request-timeout, so kubectl can report its own timeout first. */
const REQUEST_TIMEOUT_MARGIN_MS = 5_000;

export function createKubectl(ctx: KubeContext = {}, options: KubectlOptions = {}): Kubectl {
  const env = options.env ?? process.env;
  const binary = env.KUBECTL_PATH || 'kubectl';
  const flags = globalFlags(ctx);
  const timeoutMs = callTimeout(options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS, ctx.requestTimeout);
  let calls = 0;
  let namespacePromise: Promise<string> | undefined;

  function started(args: string[]): void {
    calls++;
    options.onCall?.(args);
  }

  async function run(args: readonly string[], opts: RunOptions = {}): Promise<KubectlOutput> {
    const { stdout, stderr } = await runCall(args, opts);
    return { stdout, stderr };
  }

  async function runCall(args: readonly string[], opts: RunOptions): Promise<KubectlOutput & { args: string[] }> {
    const nsFlags = opts.namespaced && namespaceOf(args) === undefined ? ['-n', await namespace()] : [];
    const fullArgs = [...flags, ...nsFlags, ...args];
    const limit = opts.timeoutMs ?? timeoutMs;
    started(fullArgs);
    const child = execa(binary, fullArgs, {
      env,
      extendEnv: false,
      ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
      stripFinalNewline: false,
      windowsHide: true,
      // execa's cleanup (signal-exit) re-raises SIGINT when it miscounts listeners, killing us
      // before a debug session can stop cleanly; every caller ends its children itself.
      cleanup: false,
    });
    const deadline = killAfter(child, limit);
    try {
      const result = await child;
      return { stdout: result.stdout, stderr: result.stderr, args: fullArgs };
    } catch (error) {
      throw errorFromExeca(binary, fullArgs, limit, deadline.expired(), error, opts.hint);
    } finally {
      deadline.cancel();
    }
  }

  async function json<T>(args: readonly string[], opts: RunOptions = {}): Promise<T> {
    const result = await runCall(args, opts);
    try {
      return JSON.parse(result.stdout) as T;
    } catch {
      const detail = `printed no JSON: ${result.stdout.slice(0, 200).trim() || '(empty)'}`;
      throw new KubectlFailed(detail, { args: result.args, exitCode: 0, stderr: result.stderr });
    }
  }

  function namespace(): Promise<string> {
    if (ctx.namespace) return Promise.resolve(ctx.namespace);
    namespacePromise ??= contextNamespace(run);
    return namespacePromise;
  }

  function spawn(args: readonly string[], opts: SpawnOptions = {}): KubectlProcess {
    const fullArgs = [...flags, ...args];
    started(fullArgs);
    const child = execa(binary, fullArgs, {
      env,
      extendEnv: false,
      buffer: false,
      ...(opts.input !== undefined ? { input: opts.input } : { stdin: opts.stdin ?? 'ignore' }),
      stripFinalNewline: false,
      windowsHide: true,
      detached: opts.ownProcessGroup ?? false,
      // execa's cleanup (signal-exit) re-raises SIGINT when it miscounts listeners, killing us
      // before a debug session can stop cleanly; every caller ends its children itself.
      cleanup: false,
    });
    const deadline = opts.timeoutMs !== undefined ? killAfter(child, opts.timeoutMs) : undefined;
    const exited = child
      .then(
        (): KubectlExit => ({ exitCode: 0, signal: null, timedOut: false }),
        (error: unknown): KubectlExit => exitFromExeca(binary, fullArgs, error, deadline?.expired() ?? false),
      )
      .finally(() => deadline?.cancel());
    return {
      args: fullArgs,
      child,
      timeoutMs: opts.timeoutMs,
      exited,
      kill: (signal: NodeJS.Signals = 'SIGTERM') => {
        child.kill(signal);
      },
    };
  }

  function failure(proc: KubectlProcess, exit: KubectlExit, stderr: string, hint?: FailureHint): KubeError {
    if (exit.startError) return exit.startError;
    const call: KubectlCall = { args: proc.args, exitCode: exit.exitCode, stderr };
    if (exit.timedOut) return new Timeout(proc.timeoutMs ?? 0, call);
    return mapKubectlFailure(proc.args, exit.exitCode, stderr, hint);
  }

  return {
    binary,
    get calls() {
      return calls;
    },
    run,
    json,
    spawn,
    namespace,
    globalFlags: () => [...flags],
    failure,
  };
}

/** The flags every kubectl call gets, in kubectl's own spelling. */
export function globalFlags(ctx: KubeContext): string[] {
  const flags: string[] = [];
  const add = (flag: string, value: string | undefined) => {
    if (value !== undefined && value !== '') flags.push(flag, value);
  };
  add('--kubeconfig', ctx.kubeconfig);
  add('--context', ctx.context);
  add('--cluster', ctx.cluster);
  add('--user', ctx.user);
  add('--as', ctx.as);
  add('--request-timeout', ctx.requestTimeout);
  add('-v', ctx.verbosity);
  return flags;
}

/** Our timeout for one call: the default, or longer when --request-timeout asks for more. */
export function callTimeout(defaultMs: number, requestTimeout: string | undefined): number {
  const requested = requestTimeout === undefined ? undefined : parseKubectlDuration(requestTimeout);
  if (!requested) return defaultMs;
  return Math.max(defaultMs, requested + REQUEST_TIMEOUT_MARGIN_MS);
}

/** kubectl's --request-timeout syntax: "0", "30" (seconds), "1m30s", "500ms". undefined if invalid. */
export function parseKubectlDuration(value: string): number | undefined {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 1e-6 };
  const part = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/y;
  let total = 0;
  let offset = 0;
  while (offset < value.length) {
    part.lastIndex = offset;
    const m = part.exec(value);
    if (!m) return undefined;
    total += Number(m[1]) * units[m[2]!]!;
    offset = part.lastIndex;
  }
  return value.length ? Math.round(total) : undefined;
}

/**
 * Runs a local program that is not kubectl (e.g. `python3 -c …` to find a local debugpy) to
 * completion, without a shell: its stdout, or null when it could not start, failed or timed out.
 */
export async function runLocal(file: string, args: readonly string[], opts: { timeoutMs: number }): Promise<string | null> {
  const child = execa(file, [...args], { stdin: 'ignore', windowsHide: true, cleanup: false });
  const deadline = killAfter(child, opts.timeoutMs);
  try {
    return (await child).stdout;
  } catch {
    return null;
  } finally {
    deadline.cancel();
  }
}

interface ConfigView {
  contexts?: { name?: string; context?: { namespace?: string } }[];
}

/** The namespace of the current (or --context) context, from one `config view --minify` call. */
async function contextNamespace(
  run: (args: readonly string[], opts?: RunOptions) => Promise<KubectlOutput>,
): Promise<string> {
  let stdout: string;
  try {
    ({ stdout } = await run(['config', 'view', '--minify', '-o', 'json']));
  } catch (error) {
    // No current context at all (e.g. in-cluster config): kubectl itself would use "default".
    if (error instanceof KubeError && /current-context must exist/.test(error.stderr)) return 'default';
    throw error;
  }
  try {
    const view = JSON.parse(stdout) as ConfigView;
    return view.contexts?.[0]?.context?.namespace || 'default';
  } catch {
    return 'default';
  }
}

/** The fields of execa's error we rely on (execa 5). */
interface ExecaFailure {
  code?: string;
  exitCode?: number;
  signal?: string;
  stderr?: string;
}

/** Grace between SIGTERM and SIGKILL for a kubectl that overstays its timeout. */
const FORCE_KILL_AFTER_MS = 2_000;

/**
 * Our own timer rather than execa's `timeout` option: execa 5 leaves that timer running when the
 * spawn itself fails (ENOENT), which kept the CLI alive for the whole timeout after the error.
 */
function killAfter(child: ExecaChildProcess, timeoutMs: number): { expired(): boolean; cancel(): void } {
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    child.kill('SIGTERM', { forceKillAfterTimeout: FORCE_KILL_AFTER_MS });
  }, timeoutMs);
  return { expired: () => expired, cancel: () => clearTimeout(timer) };
}

function asExecaFailure(error: unknown): ExecaFailure {
  return typeof error === 'object' && error !== null ? (error as ExecaFailure) : {};
}

function startErrorOf(binary: string, args: string[], failure: ExecaFailure): KubectlNotFound | undefined {
  const call: KubectlCall = { args, exitCode: null, stderr: '' };
  if (failure.code === 'ENOENT') return new KubectlNotFound(binary, 'missing', call);
  if (failure.code === 'EACCES') return new KubectlNotFound(binary, 'not-executable', call);
  return undefined;
}

function errorFromExeca(
  binary: string,
  args: string[],
  timeoutMs: number,
  timedOut: boolean,
  error: unknown,
  hint: FailureHint | undefined,
): KubeError {
  const failure = asExecaFailure(error);
  const startError = startErrorOf(binary, args, failure);
  if (startError) return startError;
  const stderr = failure.stderr ?? '';
  const exitCode = failure.exitCode ?? null;
  if (timedOut) return new Timeout(timeoutMs, { args, exitCode, stderr });
  return mapKubectlFailure(args, exitCode, stderr, hint);
}

function exitFromExeca(binary: string, args: string[], error: unknown, timedOut: boolean): KubectlExit {
  const failure = asExecaFailure(error);
  const startError = startErrorOf(binary, args, failure);
  return {
    exitCode: failure.exitCode ?? null,
    signal: failure.signal ?? null,
    timedOut,
    ...(startError ? { startError } : {}),
  };
}
