/**
 * `kubectl wand completion install`: puts kubectl_complete-wand next to the kubectl-wand that
 * kubectl runs (krew cannot ship a second executable). The helper is this same executable under
 * another name: a relative symlink where possible, else a copy (Windows, or --copy), or for a
 * Node.js script a two-line shell wrapper.
 */
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { WandError } from '../errors';
import { COMPLETION } from '../remedies';

export const PLUGIN = 'wand';

export interface Self {
  /** the running executable: the single-executable binary, or the CLI's .js file under Node.js */
  executable: string;
  /** true for the single executable (can be copied), false for a Node.js script */
  standalone: boolean;
}

export interface InstallOptions {
  /** where to put the helper (default: beside the kubectl-wand found on PATH, else beside this one) */
  dir?: string;
  /** copy instead of symlinking */
  copy?: boolean;
  /** replace a different kubectl_complete-wand */
  force?: boolean;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  self?: Self;
}

export interface InstallResult {
  helper: string;
  /** the kubectl-wand it stands for */
  plugin: string;
  how: 'symlink' | 'copy' | 'script';
  /** the helper was already there, as it would have been written */
  unchanged: boolean;
  /** whether kubectl can find it: its directory is on PATH */
  onPath: boolean;
}

export function pluginFileName(platform: NodeJS.Platform = process.platform): string {
  return `kubectl-${PLUGIN}${platform === 'win32' ? '.exe' : ''}`;
}

export function helperFileName(platform: NodeJS.Platform = process.platform): string {
  return `kubectl_complete-${PLUGIN}${platform === 'win32' ? '.exe' : ''}`;
}

/** The running executable as the helper should reach it. */
export function currentSelf(): Self {
  if (isSingleExecutable()) return { executable: process.execPath, standalone: true };
  return { executable: path.resolve(process.argv[1] ?? process.execPath), standalone: false };
}

function isSingleExecutable(): boolean {
  try {
    return (require('node:sea') as typeof import('node:sea')).isSea();
  } catch {
    return false;
  }
}

/** The shell wrapper `completion print` shows (and `install` writes for a Node.js script copy). */
export function helperScript(plugin = `kubectl-${PLUGIN}`): string {
  return [
    '#!/bin/sh',
    `# kubectl_complete-${PLUGIN}: shell completion for \`kubectl ${PLUGIN}\`.`,
    `# kubectl (>= 1.26) runs this from PATH when you press TAB after \`kubectl ${PLUGIN}\`, once kubectl's own`,
    '# completion is set up (e.g. `source <(kubectl completion bash)`; zsh, fish and powershell work too).',
    `# Install: \`kubectl ${PLUGIN} completion install\`, or save this file as kubectl_complete-${PLUGIN}`,
    '# in a directory on PATH and make it executable (chmod +x).',
    `exec ${shellQuote(plugin)} __complete "$@"`,
    '',
  ].join('\n');
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The first executable NAME on PATH, as kubectl would find it. */
export async function findOnPath(name: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): Promise<string | undefined> {
  for (const dir of pathDirs(env, platform)) {
    const candidate = path.join(dir, name);
    try {
      const stat = await fs.stat(candidate);
      if (stat.isFile() && (platform === 'win32' || (await isExecutable(candidate)))) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function pathDirs(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string[] {
  const value = env.PATH ?? env.Path ?? '';
  return value.split(platform === 'win32' ? ';' : ':').filter(Boolean);
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await fs.access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function installHelper(opts: InstallOptions = {}): Promise<InstallResult> {
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? process.platform;
  const self = opts.self ?? currentSelf();
  const onPathPlugin = await findOnPath(pluginFileName(platform), env, platform);
  const dir = path.resolve(opts.dir ?? path.dirname(onPathPlugin ?? self.executable));
  const besideDir = path.join(dir, pluginFileName(platform));
  const plugin = (await exists(besideDir)) ? besideDir : (onPathPlugin ?? self.executable);
  const helper = path.join(dir, helperFileName(platform));
  const standalone = await isStandalone(plugin, self);

  const how: InstallResult['how'] = opts.copy || platform === 'win32' ? (standalone ? 'copy' : 'script') : 'symlink';
  if (how === 'script' && platform === 'win32') {
    throw new WandError('cannot copy a Node.js script as the completion helper on Windows', COMPLETION.windowsScript);
  }
  const linkTarget = path.dirname(plugin) === dir ? path.basename(plugin) : plugin;
  const wanted = how === 'symlink' ? { link: linkTarget } : how === 'copy' ? { file: await fs.readFile(await fs.realpath(plugin)) } : { file: Buffer.from(helperScript(plugin)) };

  const unchanged = (await alreadyThere(helper, wanted)) || (how === 'symlink' && (await sameFile(helper, plugin)));
  if (!unchanged) {
    if ((await lexists(helper)) && !opts.force) {
      throw new WandError(`${helper} already exists and is not this kubectl-${PLUGIN}`, COMPLETION.exists);
    }
    await fs.mkdir(dir, { recursive: true });
    await writeHelper(helper, wanted);
  }
  return { helper, plugin, how, unchanged, onPath: pathDirs(env, platform).some((d) => path.resolve(d) === dir) };
}

type Wanted = { link: string } | { file: Buffer };

async function writeHelper(helper: string, wanted: Wanted): Promise<void> {
  // write beside it, then rename over: an existing helper is never left half-written
  const temp = `${helper}.tmp-${process.pid}`;
  try {
    if ('link' in wanted) await fs.symlink(wanted.link, temp);
    else await fs.writeFile(temp, wanted.file, { mode: 0o755 });
    await fs.rename(temp, helper);
  } catch (error) {
    await fs.rm(temp, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new WandError(`cannot write ${helper} (${code})`, COMPLETION.cannotWrite(path.dirname(helper)));
    }
    throw error;
  }
}

async function alreadyThere(helper: string, wanted: Wanted): Promise<boolean> {
  try {
    if ('link' in wanted) return (await fs.readlink(helper)) === wanted.link;
    const stat = await fs.lstat(helper);
    return stat.isFile() && stat.size === wanted.file.length && (await fs.readFile(helper)).equals(wanted.file);
  } catch {
    return false;
  }
}

/** Both resolve to one file: e.g. the kubectl_complete-wand link npm itself installs. */
async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    return (await fs.realpath(a)) === (await fs.realpath(b));
  } catch {
    return false;
  }
}

/** A single executable can be copied; a Node.js script (`#!`) cannot. */
async function isStandalone(plugin: string, self: Self): Promise<boolean> {
  try {
    const real = await fs.realpath(plugin);
    if (real === (await fs.realpath(self.executable))) return self.standalone;
    const handle = await fs.open(real, 'r');
    try {
      const head = Buffer.alloc(2);
      await handle.read(head, 0, 2, 0);
      return head.toString('latin1') !== '#!';
    } finally {
      await handle.close();
    }
  } catch {
    return self.standalone;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.stat(file);
    return true;
  } catch {
    return false;
  }
}

async function lexists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch {
    return false;
  }
}
