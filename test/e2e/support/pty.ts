/**
 * A command on a real pseudo-terminal, as a user runs it: tmux (on its own socket, so no user's
 * tmux is touched) runs it in a 200×50 window; tests send keys and read the screen. The exit code is
 * printed as `[exit N]` on the screen and kept in a file.
 */
import { execFile } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { until } from './until';

export interface Pty {
  /** the visible screen, as text */
  screen(): Promise<string>;
  /** tmux key names ("Enter", "Escape", "Down", "C-c") or literal text with `{ literal: true }` */
  send(keys: string[], opts?: { literal?: boolean }): Promise<void>;
  /** resolves with the screen once it matches */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** resolves with the command's exit code */
  exited(timeoutMs?: number): Promise<number>;
  /** ends the tmux server (and whatever still runs in it) */
  close(): Promise<void>;
}

function tmux(socket: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('tmux', ['-L', socket, ...args], (err, stdout, stderr) => (err ? reject(new Error(`tmux ${args[0]}: ${stderr || err.message}`)) : resolve(stdout)));
  });
}

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/** Starts `command` (argv) with exactly `env` on a fresh pseudo-terminal. */
export async function startInPty(command: string[], env: NodeJS.ProcessEnv): Promise<Pty> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wand-pty-'));
  const socket = `wand-e2e-${process.pid}-${path.basename(dir)}`;
  const exitFile = path.join(dir, 'exit');
  const assignments = Object.entries(env)
    .filter(([name, value]) => value !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    .map(([name, value]) => `${name}=${quote(value!)}`);
  // env -i: the tmux server passes on its own environment (CI=true in CI, which turns prompts off)
  const script = [
    `env -i ${assignments.join(' ')} ${command.map(quote).join(' ')}`,
    'code=$?',
    `echo $code > ${quote(exitFile)}`,
    'echo "[exit $code]"',
    'exec sleep 3600',
  ].join('\n');
  const scriptFile = path.join(dir, 'run.sh');
  await fs.writeFile(scriptFile, script, { mode: 0o700 });
  await tmux(socket, ['-f', '/dev/null', 'new-session', '-d', '-x', '200', '-y', '50', '-s', 'wand', `sh ${quote(scriptFile)}`]);
  const screen = () => tmux(socket, ['capture-pane', '-p', '-t', 'wand']);
  return {
    screen,
    async send(keys, opts = {}) {
      await tmux(socket, ['send-keys', '-t', 'wand', ...(opts.literal ? ['-l'] : []), ...keys]);
    },
    waitFor(pattern, timeoutMs = 60_000) {
      return until(async () => {
        const text = await screen();
        return pattern.test(text) ? text : undefined;
      }, timeoutMs, async () => `${pattern} on the screen:\n${await screen()}`);
    },
    exited(timeoutMs = 30_000) {
      return until(async () => (existsSync(exitFile) ? Number(readFileSync(exitFile, 'utf8').trim()) : undefined), timeoutMs, async () => `the exit; the screen:\n${await screen()}`);
    },
    async close() {
      await tmux(socket, ['kill-server']).catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
