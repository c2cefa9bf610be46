/** What `kubectl wand exec` does once its arguments are parsed (the definition is in ./exec). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MIN_RUN_SECONDS, type AgentEvent } from '../agent/contract';
import { runAgent } from '../session/agent-runner';
import { color } from '../ui/colors';
import { UsageError } from '../errors';
import { INPUT } from '../remedies';
import { agentFailure } from '../session/failures';
import { codeSourceOf, ONE_SOURCE, type CodeSource, type ExecArgs } from './exec';
import { oneProcessFor } from './context';

const AGENT_MARGIN_SECONDS = 30;

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => (text += chunk));
    process.stdin.on('end', () => resolve(text));
    process.stdin.on('error', reject);
  });
}

function readCodeFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String(code ?? error);
    throw new UsageError(`cannot read -f ${file}: ${why} (looked at ${path.resolve(file)})`, INPUT.unreadableFile);
  }
}

async function codeOf(source: CodeSource): Promise<{ text: string; sourceName: string }> {
  switch (source.kind) {
    case 'code':
      return { text: source.code, sourceName: '--code' };
    case 'file':
      return { text: readCodeFile(source.path), sourceName: source.path };
    default:
      return { text: await readStdin(), sourceName: 'stdin' };
  }
}

/** Says once, after a moment, that the main thread has not picked the code up yet. */
function waitingNotice(pid: number): (event: AgentEvent) => void {
  let said = false;
  return (event) => {
    if (event.event !== 'waiting' || said || event.seconds < 2) return;
    said = true;
    const where = event.blockedIn ? ` (it is blocked in ${event.blockedIn})` : '';
    process.stderr.write(`${color.dim(`waiting for the main thread of PID ${pid} to run the code${where}…`)}\n`);
  };
}

export async function runExec(args: ExecArgs): Promise<void> {
  const { source, target } = codeSourceOf(args);
  const code = await codeOf(source);
  if (!code.text.trim()) throw new UsageError(`the code from ${code.sourceName} is empty`, ONE_SOURCE);
  const one = await oneProcessFor({ ...args, target }, { readOnly: false });
  const request = { op: 'exec' as const, pid: one.process.pid, code: code.text, timeoutSeconds: args.timeout, ...(args.module ? { module: args.module } : {}) };
  const timeoutMs = (args.timeout + Math.max(args.timeout, MIN_RUN_SECONDS) + AGENT_MARGIN_SECONDS) * 1000;
  const result = await runAgent(one.kubectl, one.agent, request, { agentSource: one.agentSource, timeoutMs, onEvent: waitingNotice(one.process.pid) }).catch(
    (error: unknown) => {
      throw agentFailure(error, one.context, code);
    },
  );
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  if (result.traceback) {
    process.stderr.write(result.traceback);
    process.exitCode = 1;
  }
}
