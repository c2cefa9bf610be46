/** Colour only for a terminal that wants it: never when piped, with NO_COLOR, or TERM=dumb. */
import kleur from 'kleur';

export function colorEnabled(stream: NodeJS.WriteStream = process.stderr, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

kleur.enabled = colorEnabled();

export const color = kleur;
