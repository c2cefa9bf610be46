/**
 * The one error root. Every failure kubectl-wand reports is a WandError: a one-line cause
 * (`message`), what to do about it (`remedy`, text from ./remedies), a stable `code`, and an exit
 * class — a usage mistake (the command line itself is wrong: exit 2) or a failure (exit 1).
 * A leaf module: every folder may import it.
 */

import { USAGE } from './remedies';

/** usage: exit 2; failure: exit 1; cancelled: the user left a prompt (Esc, Ctrl-C): exit 130, as after SIGINT */
export type ExitClass = 'usage' | 'failure' | 'cancelled';

export class WandError extends Error {
  constructor(
    message: string,
    readonly remedy?: string,
    readonly exitClass: ExitClass = 'failure',
    /** stable, machine-readable: the class name unless a subclass says better */
    readonly code: string = new.target.name,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The command line is wrong: a bad flag value, a malformed target, a missing argument. */
export class UsageError extends WandError {
  constructor(message: string, remedy?: string) {
    super(message, remedy ?? USAGE, 'usage');
  }
}

/** The user cancelled a prompt: nothing was started, nothing is left to clean up. */
export class Cancelled extends WandError {
  constructor() {
    super('cancelled', undefined, 'cancelled');
  }
}

/** The process exit code for an error: 2 for usage mistakes, 130 when cancelled, 1 for everything else. */
export function exitCodeOf(error: unknown): 1 | 2 | 130 {
  if (!(error instanceof WandError)) return 1;
  return error.exitClass === 'usage' ? 2 : error.exitClass === 'cancelled' ? 130 : 1;
}
