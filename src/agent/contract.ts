/**
 * The JSON contract between the TypeScript CLI and the in-pod Python agent (the modules of
 * src/agent/wand_agent/, assembled by src/agent/assemble.ts into one program, build/src/agent/agent.py).
 * Constants both sides use are in wand_agent/contract.py too; test/unit/agent/test_contract.py compares.
 *
 * Transport: `kubectl exec -i POD -c C -- python3 -` with stdin = agent.py followed by one line
 * `main("<base64 of a JSON AgentRequest>")`. The agent writes one JSON object per line on stdout
 * (AgentEvent); the last line is always a `result` or `error` event. Human-readable diagnostics
 * never go to stdout. The agent must run on Python >= 3.8 (3.9+ to inject Python before 3.14: it runs the ptrace injector) and uses
 * only the standard library.
 */

/** Environment variables whose value (never other variables: they may hold secrets) is reported. */
export const REPORTED_ENV = [
  'WERKZEUG_RUN_MAIN',
  'RUN_MAIN',
  'PYTHON_DISABLE_REMOTE_DEBUG',
  'SERVER_SOFTWARE',
] as const;
export type ReportedEnvName = (typeof REPORTED_ENV)[number];

/** One process of the container's PID namespace, as read from /proc by the agent. */
export interface ProcessRecord {
  pid: number;
  ppid: number;
  uid: number;
  /** user name from the container's /etc/passwd, else the uid as a string */
  user: string;
  /** argv as read from /proc/PID/cmdline ([] for kernel threads / zombies) */
  argv: string[];
  /** readlink(/proc/PID/exe), null when not permitted */
  exe: string | null;
  /** true when the executable is a CPython interpreter (python, python3, python3.X) */
  isPython: boolean;
  /** "3.14.8" asked of the process's own interpreter binary; null when not Python or unknown */
  python: string | null;
  /** CPU use sampled now over ~0.2 s, in percent of one core */
  cpuPercent: number;
  rssBytes: number;
  uptimeSeconds: number;
  /** readlink(/proc/PID/cwd), null when not permitted */
  cwd: string | null;
  /** only the names in REPORTED_ENV, and only when present; null when environ is unreadable */
  env: Partial<Record<ReportedEnvName, string>> | null;
  /** the process's -X options from its argv (e.g. "disable-remote-debug") */
  xOptions: string[];
  /** can kubectl-wand inject this process? */
  debuggable: boolean;
  /** why not (null when debuggable) */
  reason: string | null;
  /** the same, machine-readable: null when debuggable, else the code inspect_target would fail with */
  reasonCode: AgentErrorCode | null;
  /** with reasonCode permission-denied: why, tried with one read of its memory */
  traceDeniedCode?: TraceDenialCode | null;
  /** with reasonCode permission-denied: the verdict for a tracer that is let in (a debugger container) */
  ifTraced?: { debuggable: boolean; reason: string | null; reasonCode: AgentErrorCode | null } | null;
  /** a debugpy listener that already serves this process (adapter's port), else null */
  debugpyPort: number | null;
  /** how code gets into it: sys.remote_exec (3.14+) or the ptrace injector (3.9–3.13, x86_64); null when not Python, too old or unknown */
  injector?: Injector | null;
}

/** sys.remote_exec (Python 3.14+) or the agent's ptrace injector (3.9–3.13 on x86_64). */
export type Injector = 'remote_exec' | 'ptrace';

export interface Capabilities {
  /** uid the agent (i.e. kubectl exec) runs as */
  uid: number;
  /** CAP_SYS_PTRACE in the agent's effective set */
  sysPtrace: boolean;
  /** /proc/sys/kernel/yama/ptrace_scope, null when Yama is absent */
  yamaPtraceScope: number | null;
}

/** ListRequest.sampleSeconds when absent */
export const DEFAULT_SAMPLE_SECONDS = 0.2;

export interface ListRequest {
  op: 'list';
  /**
   * sample interval for CPU%, seconds (default DEFAULT_SAMPLE_SECONDS)
   * 0: no sampling (fast, every cpuPercent is 0)
   */
  sampleSeconds?: number;
}
export interface ListResult {
  op: 'list';
  agentPython: string;
  capabilities: Capabilities;
  processes: ProcessRecord[];
}

export interface InjectRequest {
  op: 'inject';
  pid: number;
  /** debugpy listens on 127.0.0.1:port inside the pod */
  port: number;
  waitForClient: boolean;
  /** seconds to wait for the target's main thread to run the script */
  timeoutSeconds: number;
  /** a zip (base64) of a directory holding the `debugpy` package, for images without debugpy */
  debugpyZipBase64?: string;
}
export interface InjectResult {
  op: 'inject';
  pid: number;
  host: string;
  port: number;
  /** true when debugpy was already listening in the process and that listener is reused */
  reused: boolean;
  debugpyVersion: string;
  cwd: string;
  mainFile: string | null;
  sysPath0: string | null;
  /** true when the main file lives under site-packages / dist-packages */
  underSitePackages: boolean;
  /** who opened the listener: kubectl-wand (closed when the last session ends) or the app (left alone) */
  owner: 'wand' | 'app';
  /** other live kubectl-wand sessions attached to this process (their editors may be attached) */
  otherSessions: number;
  /** how debugpy got in */
  injector: Injector;
}

/**
 * This session leaves a process it injected. Its debugpy listener closes (adapter ended, tracing
 * off, threads held at breakpoints resumed) unless another session still holds it, the app opened
 * it, or keepListening. The agent does the same by itself for what it injected when its stdin ends.
 */
export interface CloseRequest {
  op: 'close';
  pid: number;
  keepListening?: boolean;
  /** seconds to wait for the target's main thread to run the close */
  timeoutSeconds: number;
}
/**
 * closed: nothing of ours listens in the process any more. not-listening: nothing was open.
 * keep-listening / other-sessions / app-listener: left listening on purpose. fallback: this debugpy
 * lacks an internal the close relies on (left as it was). adapter-killed: the main thread never ran
 * the close; the adapter was ended (no editor can attach) but tracing stays until the next session.
 * incomplete / error: the close ran but something is left (see `fallback` / `error`). opening: the
 * injection's debugpy.listen() had still not returned when the close gave up (left listening).
 */
export type CloseReason =
  | 'closed'
  | 'not-listening'
  | 'keep-listening'
  | 'other-sessions'
  | 'app-listener'
  | 'fallback'
  | 'adapter-killed'
  | 'incomplete'
  | 'opening'
  | 'error';
export interface CloseResult {
  op: 'close';
  pid: number;
  closed: boolean;
  reason: CloseReason;
  /** the debug port in the pod, when one was open */
  port?: number;
  otherSessions?: number;
  /** threads that were held at a breakpoint and now run */
  resumedThreads?: number;
  /** why the listener was left (another debugpy, main thread busy) */
  fallback?: string;
  error?: string;
  seconds?: number;
}

/**
 * Once the injected code said `started`, the agent lets it run max(timeoutSeconds, MIN_RUN_SECONDS)
 * (debugpy.listen waits up to 30 s for its adapter; user code may be slow).
 */
export const MIN_RUN_SECONDS = 60;

export interface ExecCodeRequest {
  op: 'exec';
  pid: number;
  code: string;
  /** run in this module's namespace (e.g. "__main__") instead of a fresh one */
  module?: string;
  timeoutSeconds: number;
}
export interface ExecCodeResult {
  op: 'exec';
  pid: number;
  stdout: string;
  stderr: string;
  /** formatted traceback when the code raised, else null */
  traceback: string | null;
}

export interface StackRequest {
  op: 'stack';
  pid: number;
}
export interface StackFrame {
  function: string;
  file: string;
  line: number;
}
export interface ThreadStack {
  threadId: number;
  isMain: boolean;
  /** innermost frame first */
  frames: StackFrame[];
}
export interface StackResult {
  op: 'stack';
  pid: number;
  threads: ThreadStack[];
}

/** `kubectl wand doctor`: every fact that decides whether each process can be debugged. */
export interface DoctorRequest {
  op: 'doctor';
  pids: number[];
}
export interface DoctorFacts {
  pid: number;
  /** false when no such process (every other field is then null/false) */
  exists: boolean;
  isPython: boolean;
  /** "3.14.0" from the process's interpreter binary; null when not Python or unknown */
  python: string | null;
  /** the build supports remote debugging (sys.is_remote_debug_enabled() without the env switch); null when unknown */
  remoteDebugBuild: boolean | null;
  /** why remote debugging is switched off in this process (environment, -X option), else null */
  remoteDebugDisabled: string | null;
  /** why remoteDebugDisabled, machine-readable */
  remoteDebugDisabledCode: RemoteDebugOffCode | null;
  /** why the kernel will refuse to trace it (uids, capabilities, Yama), else null */
  traceDenied: string | null;
  /** why traceDenied, machine-readable */
  traceDeniedCode: TraceDenialCode | null;
  /** the debugpy the process would import (asked of its interpreter with its environment and cwd); null when not Python */
  debugpy: { version: string | null; path: string | null; error: string | null } | null;
  /** the directory the injected script would go to (created and removed), or why none; null when not Python */
  writableDir: { path: string | null; error: string | null } | null;
  /** a debugpy listener that already serves this process (adapter's port), else null */
  debugpyPort: number | null;
  /** how code would get in (null: not Python, too old or unknown) */
  injector?: Injector | null;
  /** why the ptrace injector will not inject it on this node (architecture, the agent's Python), else null */
  injectorRefused?: string | null;
}
export interface DoctorResult {
  op: 'doctor';
  capabilities: Capabilities;
  processes: DoctorFacts[];
}

/** Why the kernel refuses to trace a process (DoctorFacts.traceDeniedCode). */
export type TraceDenialCode =
  | 'yama-scope-3'
  | 'yama-scope-2'
  | 'yama-scope-1'
  | 'other-uid'
  | 'other-gid'
  | 'more-capabilities'
  | 'proc-unreadable'
  /** the target is not dumpable: only CAP_SYS_PTRACE overrides */
  | 'not-dumpable'
  /** the agent's seccomp filter refuses process_vm_readv */
  | 'seccomp'
  /** the kernel has no process_vm_readv (gVisor) */
  | 'no-process-vm'
  /** EPERM for a reason the agent cannot read (AppArmor, SELinux) */
  | 'unknown';

/** How remote debugging is switched off in a process (a build without it: remoteDebugBuild false). */
export type RemoteDebugOffCode = 'x-option' | 'env';

export type AgentRequest = ListRequest | InjectRequest | CloseRequest | ExecCodeRequest | StackRequest | DoctorRequest;
export type AgentResult = ListResult | InjectResult | CloseResult | ExecCodeResult | StackResult | DoctorResult;

/** Error codes the agent reports; the CLI maps each to one line plus a remedy. */
export type AgentErrorCode =
  | 'no-such-process'
  | 'not-python'
  | 'python-too-old'
  | 'remote-debug-disabled'
  | 'permission-denied'
  | 'no-writable-dir'
  | 'no-debugpy'
  | 'timeout'
  | 'injected-code-failed'
  | 'version-mismatch'
  | 'unsupported-arch'
  | 'unsupported-python'
  | 'not-ready'
  | 'internal';

export type AgentEvent =
  | { event: 'result'; result: AgentResult }
  | {
      event: 'error';
      code: AgentErrorCode;
      message: string;
      /** main-thread stack when the injection timed out */
      stack?: ThreadStack[];
      /** what the main thread is blocked in, e.g. "select()" */
      blockedIn?: string;
      /** permission-denied: why the kernel refused */
      traceCode?: TraceDenialCode;
    }
  /** progress while waiting for the target to run the injected script */
  | { event: 'waiting'; pid: number; seconds: number; blockedIn: string | null }
  | { event: 'started'; pid: number };

// ---------------------------------------------------------------------------------------------
// Session mode: one long-lived exec per pod for a whole `kubectl wand debug` session

/**
 * The program of `kubectl exec -i POD -c C -n NS -- python3 -c SESSION_BOOTSTRAP`. It reads one
 * stdin line, the base64 of agent.py, runs it and calls its serve() (Python 3.8+). Then stdin
 * carries one SessionRequest per line and stdout one SessionEvent per line, starting with `ready`.
 * Requests run concurrently; each ends with a `result` or `error` event carrying its id. End of
 * stdin (or SIGTERM/SIGHUP) ends the session: the agent removes its files and exits 0.
 */
export const SESSION_BOOTSTRAP =
  'import sys,base64;exec(compile(base64.b64decode(sys.stdin.buffer.readline()),"wand-agent","exec"));serve()';

/**
 * The same in a debugger container (`kubectl debug --target C`, or `kubectl exec -c` into one): the
 * agent works in the root of `rootPid`, a process of the target container (ephemeral.py) — PID 1
 * is that container's first process unless the pod shares one PID namespace (then it is pause's).
 */
export function ephemeralBootstrap(rootPid: number): string {
  return SESSION_BOOTSTRAP.replace(/serve\(\)$/, `serve(root_pid=${Math.trunc(rootPid)})`);
}

/**
 * Replaces the set of watched processes (the debugged workers and their managers); [] stops
 * watching. Idle, the agent only waits for them to exit. When one exits it sends `exited`, then
 * `processes` at once and whenever the set of (pid, argv) changes, for 15 s after the last exit or
 * until the next watch. A pid already gone when the watch starts is reported `exited` at once.
 */
export interface WatchRequest {
  op: 'watch';
  pids: number[];
}
export interface WatchResult {
  op: 'watch';
  /** the watched pids, sorted, without duplicates */
  pids: number[];
}

export type SessionRequestBody = AgentRequest | WatchRequest;
/** One stdin line of a session; ids are chosen by the CLI, unique, >= 1. */
export type SessionRequest = SessionRequestBody & { id: number };
export type SessionResult = AgentResult | WatchResult;

export type SessionEvent =
  | ({ id: number } & AgentEvent)
  | { event: 'result'; id: number; result: WatchResult }
  /** the first line: the agent runs (id 0 belongs to no request) */
  /** hostname: the pod's (its name unless spec.hostname says otherwise), to know where an exec by TYPE/NAME landed */
  | { event: 'ready'; id: 0; agentPython: string; pid: number; hostname: string }
  /** watched processes exited (id: the watch request's) */
  | { event: 'exited'; id: number; pids: number[] }
  /** the process table after an exit, without CPU sampling (cpuPercent 0) */
  | { event: 'processes'; id: number; processes: ProcessRecord[] }
  /** a request line the agent could not read, so without an id */
  | { event: 'error'; id: null; code: 'internal'; message: string };
