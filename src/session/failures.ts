/**
 * Agent errors as the user sees them: the agent reports what went wrong inside the pod as a code
 * and a message; this adds what the user can do about it. debug gets generic remedies and a
 * timed-out injection's main-thread stack; exec and stack get one line (the agent's first line; its
 * Python traceback, if any, is dropped) and a remedy that names the pod and process at hand.
 */
import type { AgentErrorCode, ThreadStack } from '../agent/contract';
import { WandError } from '../errors';
import { AgentError } from '../kube/errors';
import { remoteDebugRemedy, traceRemedy } from '../select/doctor';

const REMEDIES: Record<AgentErrorCode, string> = {
  'no-such-process': 'the process is gone (a reload?): run the command again',
  'not-python': 'choose a Python process (see: kubectl wand pods TARGET --with-pids)',
  'python-too-old': 'sys.remote_exec needs Python 3.14+ in the target: upgrade the image, or attach debugpy at start-up instead',
  'remote-debug-disabled': 'remove PYTHON_DISABLE_REMOTE_DEBUG / -X disable-remote-debug from the workload and restart it',
  'permission-denied':
    'run the app as the same user as kubectl exec, or give the container CAP_SYS_PTRACE (securityContext.capabilities.add: [SYS_PTRACE]), or attach from an ephemeral container: kubectl debug -it POD --profile=general --target=CONTAINER',
  'no-writable-dir': 'the container has no writable directory (read-only root filesystem): mount an emptyDir at /tmp',
  'no-debugpy': 'provide debugpy: pass --debugpy-from DIR, install it locally (python3 -m pip install debugpy), or add it to the image',
  timeout: 'the main thread runs the debugger only when it next runs Python code: send the app a request, or raise --timeout',
  'injected-code-failed': 'see the message above; the target kept running',
  'version-mismatch': 'the injector must be the same Python version as the target; report this as a bug',
  internal: 'this is a bug in kubectl-wand; rerun with WAND_DEBUG=1 and report the output',
};

/**
 * The remedy for a process listed as not debuggable, from its reason (the agent's wording in
 * agent.py: version, PYTHON_DISABLE_REMOTE_DEBUG / -X disable-remote-debug, ptrace denial).
 */
export function remedyForReason(reason: string): string | undefined {
  if (/needs 3\.14|Python 3\.(?:[0-9]|1[0-3])\b/.test(reason)) return REMEDIES['python-too-old'];
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

export interface ProcessContext {
  pod: string;
  namespace: string;
  container: string;
  image: string | undefined;
  pid: number;
}

const SYNTAX_PREFIX = 'the code does not compile, nothing was run:';

export class AgentFailure extends WandError {}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

export function remedyFor(error: AgentError, t: ProcessContext): string {
  const pod = `pod/${t.pod} -n ${t.namespace}`;
  switch (error.code) {
    case 'no-such-process':
    case 'not-python':
      return `list the processes with: kubectl wand pods ${pod} --with-pids`;
    case 'python-too-old':
      return `run the app on Python 3.14+; every check: kubectl wand doctor ${pod}`;
    case 'remote-debug-disabled':
      return remoteDebugRemedy(error.message);
    case 'permission-denied':
      return traceRemedy(error.message, t);
    case 'no-writable-dir':
      return 'mount an emptyDir at /tmp: volumes: [{name: tmp, emptyDir: {}}], volumeMounts: [{name: tmp, mountPath: /tmp}]';
    case 'no-debugpy':
      return 'install debugpy locally (python3 -m pip install debugpy) or add it to the image';
    case 'timeout':
      return (
        'a process runs injected code only when its main thread runs Python code (nothing more will run later); ' +
        `see where it waits with: kubectl wand stack ${pod} --pid ${t.pid}`
      );
    case 'injected-code-failed':
      return /is not imported in the target process/.test(error.message)
        ? "name a module the process has imported, e.g. --module __main__ (see: --code 'import sys; print(sorted(sys.modules))')"
        : 'rerun with WAND_DEBUG=1 to see the details';
    case 'version-mismatch':
      return `the helper interpreter does not match the target's; check with: kubectl wand doctor ${pod}`;
    default:
      return 'this looks like a bug in kubectl-wand: rerun with WAND_DEBUG=1 and report the output';
  }
}

export interface SyntaxErrorInfo {
  kind: string;
  message: string;
  line: number;
  column: number | null;
}

/**
 * Reads the agent's compile() report (traceback.format_exception_only) back into line and column:
 * Python shows the offending line without its leading whitespace after four spaces, and the caret
 * under the error, so the column is the caret's offset plus the whitespace it dropped.
 */
export function parseSyntaxError(agentMessage: string, code: string): SyntaxErrorInfo | null {
  if (!agentMessage.startsWith(SYNTAX_PREFIX)) return null;
  const lines = agentMessage.slice(SYNTAX_PREFIX.length).split('\n').filter((l) => l.trim() !== '');
  const where = lines.map((l) => /^\s*File "[^"]*", line (\d+)/.exec(l)).find((m) => m !== null);
  const last = lines[lines.length - 1] ?? '';
  const kind = /^(\w+(?:Error|Warning)?): ?(.*)$/.exec(last.trim());
  if (!where || !kind) return null;
  const line = Number(where[1]);
  const caretIndex = lines.findIndex((l) => /^\s*\^[\^~]*\s*$/.test(l));
  let column: number | null = null;
  if (caretIndex > 0) {
    const source = code.split('\n')[line - 1] ?? '';
    const dropped = source.length - source.replace(/^[ \n\f]+/, '').length;
    column = lines[caretIndex]!.indexOf('^') - 4 + dropped + 1;
  }
  return { kind: kind[1]!, message: kind[2]!, line, column };
}

export function syntaxErrorFailure(info: SyntaxErrorInfo, code: string, sourceName: string): AgentFailure {
  const at = `line ${info.line}${info.column !== null ? `, column ${info.column}` : ''}`;
  const offending = (code.split('\n')[info.line - 1] ?? '').trim();
  const kind = info.kind === 'SyntaxError' ? '' : ` (${info.kind})`;
  return new AgentFailure(
    `syntax error in ${sourceName} at ${at}: ${info.message}${kind} — nothing was injected`,
    offending ? `fix ${at}: ${offending.length > 80 ? `${offending.slice(0, 79)}…` : offending}` : 'fix the code and run it again',
  );
}

/** An AgentError from exec or stack as a WandError; other errors unchanged. */
export function agentFailure(error: unknown, t: ProcessContext, code?: { text: string; sourceName: string }): unknown {
  if (!(error instanceof AgentError)) return error;
  if (code) {
    const syntax = parseSyntaxError(error.message, code.text);
    if (syntax) return syntaxErrorFailure(syntax, code.text, code.sourceName);
  }
  return new AgentFailure(firstLine(error.message), remedyFor(error, t));
}
