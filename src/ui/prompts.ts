/**
 * Interactive choices, only on a terminal: every prompt has a non-TTY answer decided by the
 * caller (the recommended choice, or a precise error).
 */
import Enquirer from 'enquirer';

export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY) && !process.env.CI;
}

export interface Choice<T> {
  label: string;
  hint?: string;
  value: T;
}

export async function promptChoice<T>(message: string, choices: Choice<T>[]): Promise<T> {
  const names = choices.map((c, i) => `${i}`);
  const answer = (await Enquirer.prompt({
    type: 'select',
    name: 'choice',
    message,
    stdout: process.stderr,
    choices: choices.map((c, i) => ({ name: names[i], message: c.label, hint: c.hint })),
  } as Parameters<typeof Enquirer.prompt>[0])) as { choice: string };
  return choices[names.indexOf(answer.choice)].value;
}
