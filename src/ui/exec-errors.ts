/**
 * Agent errors of exec and stack as the user sees them: one line (the agent's first line; its Python
 * traceback, if any, is dropped) and a remedy that names the pod and process at hand (debug's
 * generic remedies are in agent-errors.ts).
 */
import { AgentError } from '../kube/errors';
import { remoteDebugRemedy, traceRemedy } from '../select/doctor';
import { WandError } from './errors';

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
      return `run the app on Python 3.9+; every check: kubectl wand doctor ${pod}`;
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
