/** `kubectl wand stack` as text, in the manner of `py-spy dump`. */
import type { StackResult, ThreadStack } from '../agent/contract';

export interface StackHeader {
  pid: number;
  command: string;
  python: string | null;
  pod: string;
  container: string;
}

function threadLines(t: ThreadStack): string[] {
  const frames = t.frames.length ? t.frames.map((f) => `  ${f.function} (${f.file}:${f.line})`) : ['  (no Python frames)'];
  return [`Thread ${t.threadId}${t.isMain ? ' (main)' : ''}:`, ...frames];
}

/** Header, then every thread (main first, as the agent sorts them), innermost frame first. */
export function renderStack(result: StackResult, header: StackHeader): string {
  const head = [
    `Process ${header.pid}: ${header.command}`,
    `Python ${header.python ?? '?'} — pod ${header.pod}, container ${header.container}`,
  ];
  const threads = result.threads.map((t) => threadLines(t).join('\n'));
  return `${[head.join('\n'), ...threads].join('\n\n')}\n`;
}
