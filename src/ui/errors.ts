/**
 * The one place errors become text: `error: <cause>` and, when known, a second line with the
 * remedy. No stack traces unless WAND_DEBUG is set. Returns the exit code (see src/errors.ts).
 */
import { exitCodeOf, WandError } from '../errors';
import { BUG } from '../remedies';
import { color } from './colors';

interface Remediable {
  message: string;
  remedy?: string;
}

function isRemediable(err: unknown): err is Remediable & Error {
  return err instanceof Error && ('remedy' in err || err instanceof WandError);
}

export function renderError(err: unknown, out: NodeJS.WritableStream): number {
  const debug = Boolean(process.env.WAND_DEBUG);
  // the prompt itself shows it was cancelled
  if (err instanceof WandError && err.exitClass === 'cancelled') return exitCodeOf(err);
  if (isRemediable(err)) {
    out.write(`${color.red('error:')} ${err.message}\n`);
    if (err.remedy) out.write(`${color.dim('hint:')} ${err.remedy}\n`);
    if (debug && err.stack) out.write(`${err.stack}\n`);
    return exitCodeOf(err);
  }
  const message = err instanceof Error ? err.message : String(err);
  out.write(`${color.red('error:')} ${message.split('\n')[0]}\n`);
  out.write(`${color.dim('hint:')} ${BUG}\n`);
  if (debug && err instanceof Error && err.stack) out.write(`${err.stack}\n`);
  return 1;
}
