/**
 * Agent errors as the user sees them: the agent reports what went wrong inside the pod as a code
 * and a message; this adds what the user can do about it. debug gets generic remedies and a
 * timed-out injection's main-thread stack; exec and stack get one line (the agent's first line; its
 * Python traceback, if any, is dropped) and a remedy that names the pod and process at hand.
 */
import type { ThreadStack } from '../agent/contract';
import { WandError } from '../errors';
import { agentRemedy, INPUT, type ProcessAt } from '../remedies';
import { AgentError } from './errors';

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
    return new WandError(`PID ${pid ?? '?'} did not run Python code in time${where}${stack}`, agentRemedy('timeout', error.message), 'failure', error.code);
  }
  return new WandError(error.message, agentRemedy(error.code, error.message), 'failure', error.code);
}

export type ProcessContext = ProcessAt;

const SYNTAX_PREFIX = 'the code does not compile, nothing was run:';

/** An agent error of exec or stack, explained (its `code` is the agent's). */
export class AgentFailure extends WandError {
  constructor(message: string, remedy: string, code: string) {
    super(message, remedy, 'failure', code);
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

/** The remedy exec and stack give: it names the pod and process at hand. */
export function remedyFor(error: AgentError, t: ProcessContext): string {
  return agentRemedy(error.code, error.message, t);
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
    INPUT.syntaxError(at, offending),
    'syntax-error',
  );
}

/** An AgentError from exec or stack as a WandError; other errors unchanged. */
export function agentFailure(error: unknown, t: ProcessContext, code?: { text: string; sourceName: string }): unknown {
  if (!(error instanceof AgentError)) return error;
  if (code) {
    const syntax = parseSyntaxError(error.message, code.text);
    if (syntax) return syntaxErrorFailure(syntax, code.text, code.sourceName);
  }
  return new AgentFailure(firstLine(error.message), remedyFor(error, t), error.code);
}
