/**
 * The agent reports what went wrong inside the pod as a code and a message; this adds what the
 * user can do about it, and turns a timed-out injection into the main thread's stack.
 */
import type { AgentErrorCode, ThreadStack } from '../agent/contract';
import { AgentError } from '../kube/errors';
import { WandError } from './errors';

const REMEDIES: Record<AgentErrorCode, string> = {
  'no-such-process': 'the process is gone (a reload?): run the command again',
  'not-python': 'choose a Python process (see: kubectl wand pods TARGET --with-pids)',
  'python-too-old': 'kubectl-wand needs Python 3.9+ in the target (3.9–3.13 on x86_64 nodes): upgrade the image, or attach debugpy at start-up instead',
  'remote-debug-disabled': 'remove PYTHON_DISABLE_REMOTE_DEBUG / -X disable-remote-debug from the workload and restart it',
  'permission-denied':
    'run the app as the same user as kubectl exec, or give the container CAP_SYS_PTRACE (securityContext.capabilities.add: [SYS_PTRACE]), or attach from an ephemeral container: kubectl debug -it POD --profile=general --target=CONTAINER',
  'no-writable-dir': 'the container has no writable directory (read-only root filesystem): mount an emptyDir at /tmp',
  'no-debugpy': 'provide debugpy: pass --debugpy-from DIR, install it locally (python3 -m pip install debugpy), or add it to the image',
  timeout: 'the main thread runs the debugger only when it next runs Python code: send the app a request, or raise --timeout',
  'injected-code-failed': 'see the message above; the target kept running',
  'version-mismatch': 'the injector must be the same Python version as the target; report this as a bug',
  'unsupported-arch': 'Python 3.9–3.13 can be injected on x86_64 nodes only: run the pod on one, or run the app on Python 3.14+',
  'unsupported-python': 'this interpreter cannot be injected this way (see the message): run the app on CPython 3.14+',
  'not-ready': 'the process is starting, stopping or stopped: run the command again in a moment',
  internal: 'this is a bug in kubectl-wand; rerun with WAND_DEBUG=1 and report the output',
};

/**
 * The remedy for a process listed as not debuggable, from its reason (the agent's wording in
 * agent.py: version, PYTHON_DISABLE_REMOTE_DEBUG / -X disable-remote-debug, ptrace denial).
 */
export function remedyForReason(reason: string): string | undefined {
  if (/needs 3\.9\+|Python 3\.[0-8]\b/.test(reason)) return REMEDIES['python-too-old'];
  if (/on x86_64 only/.test(reason)) return REMEDIES['unsupported-arch'];
  if (/PYTHON_DISABLE_REMOTE_DEBUG|disable-remote-debug|without remote debugging/.test(reason)) return REMEDIES['remote-debug-disabled'];
  if (/no permission to trace/.test(reason)) return REMEDIES['permission-denied'];
  return undefined;
}

export function formatStack(threads: ThreadStack[]): string[] {
  return threads.flatMap((t) => [
    `Thread ${t.threadId}${t.isMain ? ' (main)' : ''}:`,
    ...t.frames.map((f) => `    ${f.function} (${f.file}:${f.line})`),
  ]);
}

/** An AgentError with its remedy; other errors pass through unchanged. */
export function explainAgentError(error: unknown, pid?: number): unknown {
  if (!(error instanceof AgentError)) return error;
  if (error.code === 'timeout') {
    const where = error.extra.blockedIn ? ` — its main thread is blocked in ${error.extra.blockedIn}` : '';
    const stack = error.extra.threads?.length ? `\nmain thread stack (innermost first):\n${formatStack(error.extra.threads).join('\n')}` : '';
    return new WandError(`PID ${pid ?? '?'} did not run Python code in time${where}${stack}`, REMEDIES.timeout);
  }
  return new WandError(error.message, REMEDIES[error.code] ?? REMEDIES.internal);
}
