/**
 * A local debugpy to copy into images that have none: --debugpy-from PATH, else the local Python
 * environment, else VS Code's bundled debugpy. Never downloaded. Zipped deterministically (fixed
 * timestamps, sorted entries) so the agent reuses an identical copy already in the pod.
 */
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { UsageError, WandError } from '../errors';
import { INPUT } from '../remedies';
import { runLocal } from '../kube/kubectl';

export interface DebugpySource {
  /** directory that contains the `debugpy` package */
  parent: string;
  /** where it was found, for the user */
  origin: string;
}

export class NoLocalDebugpy extends WandError {
  constructor(tried: string[]) {
    super(
      `the target's image has no debugpy, and no local copy was found (looked in: ${tried.join('; ')})`,
      INPUT.noLocalDebugpy,
    );
  }
}

function hasPackage(dir: string): boolean {
  return existsSync(path.join(dir, 'debugpy', '__init__.py'));
}

/** `--debugpy-from` may name the package itself or its parent. */
function normaliseGiven(dir: string): string | null {
  if (hasPackage(dir)) return dir;
  if (path.basename(dir) === 'debugpy' && existsSync(path.join(dir, '__init__.py'))) return path.dirname(dir);
  return null;
}

function localPythonDebugpy(): Promise<string | null> {
  const code = 'import debugpy, os; print(os.path.dirname(os.path.dirname(debugpy.__file__)))';
  const tryOne = (python: string) => runLocal(python, ['-c', code], { timeoutMs: 5000 }).then((stdout) => stdout?.trim() || null);
  return tryOne('python3').then((found) => found ?? tryOne('python'));
}

async function vscodeBundledDebugpy(home: string): Promise<string | null> {
  for (const root of ['.vscode/extensions', '.vscode-server/extensions', '.cursor/extensions', '.vscode-oss/extensions']) {
    const dir = path.join(home, root);
    const entries = await fs.readdir(dir).catch(() => [] as string[]);
    const candidates = entries.filter((e) => e.startsWith('ms-python.debugpy-')).sort().reverse();
    for (const entry of candidates) {
      const libs = path.join(dir, entry, 'bundled', 'libs');
      if (hasPackage(libs)) return libs;
    }
  }
  return null;
}

export async function findLocalDebugpy(given?: string): Promise<DebugpySource> {
  if (given !== undefined) {
    const parent = normaliseGiven(path.resolve(given));
    if (!parent) throw new UsageError(`--debugpy-from ${given}: no debugpy package there`, INPUT.noDebugpyThere);
    return { parent, origin: `--debugpy-from ${given}` };
  }
  const local = await localPythonDebugpy();
  if (local && hasPackage(local)) return { parent: local, origin: `the local Python environment (${local})` };
  const bundled = await vscodeBundledDebugpy(os.homedir());
  if (bundled) return { parent: bundled, origin: `VS Code's bundled debugpy (${bundled})` };
  throw new NoLocalDebugpy(['--debugpy-from', 'python3 -c "import debugpy"', '~/.vscode/extensions/ms-python.debugpy-*/bundled/libs']);
}

async function listFiles(root: string, rel = ''): Promise<string[]> {
  const entries = await fs.readdir(path.join(root, rel), { withFileTypes: true });
  const files: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const child = rel ? `${rel}/${e.name}` : e.name;
    // Distributions (Debian among them) link vendored files from elsewhere: follow links.
    const stat = e.isSymbolicLink() ? await fs.stat(path.join(root, child)).catch(() => null) : e;
    if (stat?.isDirectory() && e.name !== '__pycache__') files.push(...(await listFiles(root, child)));
    else if (stat?.isFile() && !e.name.endsWith('.pyc')) files.push(child);
  }
  return files;
}

/** 1980-01-01, the zip epoch: fixed so the same files always give the same bytes. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

function localHeader(name: Buffer, crc: number, compressed: number, size: number): Buffer {
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(20, 4);
  h.writeUInt16LE(0x0800, 6); // UTF-8 names
  h.writeUInt16LE(8, 8); // deflate
  h.writeUInt16LE(0, 10);
  h.writeUInt16LE(DOS_DATE, 12);
  h.writeUInt32LE(crc, 14);
  h.writeUInt32LE(compressed, 18);
  h.writeUInt32LE(size, 22);
  h.writeUInt16LE(name.length, 26);
  return h;
}

function centralHeader(name: Buffer, crc: number, compressed: number, size: number, offset: number): Buffer {
  const h = Buffer.alloc(46);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE(0x0314, 4); // made by: unix, 2.0
  h.writeUInt16LE(20, 6);
  h.writeUInt16LE(0x0800, 8);
  h.writeUInt16LE(8, 10);
  h.writeUInt16LE(0, 12);
  h.writeUInt16LE(DOS_DATE, 14);
  h.writeUInt32LE(crc, 16);
  h.writeUInt32LE(compressed, 20);
  h.writeUInt32LE(size, 24);
  h.writeUInt16LE(name.length, 28);
  h.writeUInt32LE((0o100644 << 16) >>> 0, 38);
  h.writeUInt32LE(offset, 42);
  return h;
}

/**
 * Modules debugpy's pydevd imports that older targets may lack: on Python 3.9 its vendored
 * `bytecode` takes TypeGuard from typing_extensions. Shipped when next to the package, as a
 * fallback the payload puts last on sys.path (the app's own copy always wins).
 */
const FALLBACK_MODULES = ['typing_extensions.py'];
export const FALLBACK_DIR = 'wand-fallback';

/** Zips `<parent>/debugpy/**` with paths starting at `debugpy/`, and FALLBACK_MODULES under FALLBACK_DIR/. */
export async function zipDebugpy(source: DebugpySource): Promise<Buffer> {
  const files = (await listFiles(path.join(source.parent, 'debugpy'))).map((f) => ({ from: `debugpy/${f}`, to: `debugpy/${f}` }));
  for (const name of FALLBACK_MODULES) {
    if (existsSync(path.join(source.parent, name))) files.push({ from: name, to: `${FALLBACK_DIR}/${name}` });
  }
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const { from, to: file } of files) {
    const data = await fs.readFile(path.join(source.parent, from));
    const packed = deflateRawSync(data);
    const name = Buffer.from(file, 'utf8');
    const crc = crc32(data);
    const local = Buffer.concat([localHeader(name, crc, packed.length, data.length), name, packed]);
    central.push(Buffer.concat([centralHeader(name, crc, packed.length, data.length, offset), name]));
    parts.push(local);
    offset += local.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, directory, end]);
}
