/**
 * Interactive choices, only on a terminal: every prompt has a non-TTY answer decided by the
 * caller (the recommended choice, or a precise error). Arrows move, typing filters the lines,
 * Enter picks and echoes the choice's name, Esc or Ctrl-C cancels (Cancelled: exit 130).
 */
import Enquirer from 'enquirer';
import { Cancelled } from '../errors';

export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY) && !process.env.CI;
}

export interface Choice<T> {
  /** unique; echoed as the answer (a pod's name, "PID 7") */
  name: string;
  /** the whole line shown and filtered on */
  label: string;
  value: T;
}

/** `header`: the column titles above the choices while asking (not echoed with the answer) */
export async function promptChoice<T>(message: string, header: string, choices: Choice<T>[]): Promise<T> {
  let answer: { choice: string };
  try {
    answer = (await Enquirer.prompt({
      type: 'autocomplete',
      name: 'choice',
      // enquirer renders a function message anew each time: the header only while asking
      message(this: { state: { submitted: boolean } }) {
        return this.state.submitted ? message : `${message}\n${header}`;
      },
      stdout: process.stderr,
      limit: 15,
      // autocomplete echoes the choice's value: its name, never an index
      choices: choices.map((c) => ({ name: c.name, message: c.label, value: c.name })),
    } as Parameters<typeof Enquirer.prompt>[0])) as { choice: string };
  } catch {
    // enquirer rejects a cancelled prompt with an empty string
    throw new Cancelled();
  }
  const picked = choices.find((c) => c.name === answer.choice);
  if (picked === undefined) throw new Cancelled();
  return picked.value;
}
