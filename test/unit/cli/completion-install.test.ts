/** `kubectl wand completion install` and `print`, in temporary directories. */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, lstatSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { findOnPath, helperScript, installHelper, type Self } from '../../../src/cli/completion-install';
import { WandError } from '../../../src/errors';

let base: string;
beforeEach(() => {
  base = mkdtempSync(path.join(os.tmpdir(), 'wand-completion-install-'));
});
afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

function file(rel: string, content: string, mode = 0o755): string {
  const full = path.join(base, rel);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, content);
  chmodSync(full, mode);
  return full;
}

/** krew's layout: bin/kubectl-wand → store/wand/v0.1.0/kubectl-wand (a single executable). */
function krewLayout(): { bin: string; binary: string; self: Self } {
  const binary = file('store/wand/v0.1.0/kubectl-wand', '\x7fELF pretend executable');
  const bin = path.join(base, 'bin');
  mkdirSync(bin);
  symlinkSync(binary, path.join(bin, 'kubectl-wand'));
  return { bin, binary, self: { executable: binary, standalone: true } };
}

describe('installHelper', () => {
  test('links kubectl_complete-wand to the kubectl-wand found on PATH, relatively', async () => {
    const { bin, self } = krewLayout();
    const result = await installHelper({ env: { PATH: `${path.join(base, 'none')}:${bin}` }, platform: 'linux', self });
    expect(result).toEqual({
      helper: path.join(bin, 'kubectl_complete-wand'),
      plugin: path.join(bin, 'kubectl-wand'),
      how: 'symlink',
      unchanged: false,
      onPath: true,
    });
    // linked to the PATH entry, not to krew's store: a krew upgrade moves the store, not the link
    expect(readlinkSync(result.helper)).toBe('kubectl-wand');
    const again = await installHelper({ env: { PATH: bin }, platform: 'linux', self });
    expect(again.unchanged).toBe(true);
  });

  test('an npm-installed script: the link still works, its name is what makes it the helper', async () => {
    const script = file('lib/node_modules/kubectl-wand/build/src/cli/main.js', '#!/usr/bin/env node\n');
    const bin = path.join(base, 'bin');
    mkdirSync(bin);
    symlinkSync(script, path.join(bin, 'kubectl-wand'));
    const result = await installHelper({ env: { PATH: bin }, platform: 'linux', self: { executable: script, standalone: false } });
    expect(result.how).toBe('symlink');
    expect(readlinkSync(result.helper)).toBe('kubectl-wand');
  });

  test("npm's own kubectl_complete-wand (a link to the same script) counts as installed", async () => {
    const script = file('lib/node_modules/kubectl-wand/build/src/cli/main.js', '#!/usr/bin/env node\n');
    const bin = path.join(base, 'bin');
    mkdirSync(bin);
    symlinkSync('../lib/node_modules/kubectl-wand/build/src/cli/main.js', path.join(bin, 'kubectl-wand'));
    symlinkSync('../lib/node_modules/kubectl-wand/build/src/cli/main.js', path.join(bin, 'kubectl_complete-wand'));
    const result = await installHelper({ env: { PATH: bin }, platform: 'linux', self: { executable: script, standalone: false } });
    expect(result.unchanged).toBe(true);
    expect(readlinkSync(result.helper)).toBe('../lib/node_modules/kubectl-wand/build/src/cli/main.js');
  });

  test('never on PATH: beside this executable, and says kubectl will not find it', async () => {
    const binary = file('somewhere/kubectl-wand', 'binary');
    const result = await installHelper({ env: { PATH: path.join(base, 'empty') }, platform: 'linux', self: { executable: binary, standalone: true } });
    expect(result.helper).toBe(path.join(base, 'somewhere', 'kubectl_complete-wand'));
    expect(result.onPath).toBe(false);
    expect(readlinkSync(result.helper)).toBe('kubectl-wand');
  });

  test('--dir elsewhere links to the plugin by its full path', async () => {
    const { bin, self } = krewLayout();
    const dir = path.join(base, 'mine');
    const result = await installHelper({ dir, env: { PATH: `${bin}:${dir}` }, platform: 'linux', self });
    expect(result.helper).toBe(path.join(dir, 'kubectl_complete-wand'));
    expect(readlinkSync(result.helper)).toBe(path.join(bin, 'kubectl-wand'));
    expect(result.onPath).toBe(true);
  });

  test('--copy copies a single executable; a script gets a wrapper instead', async () => {
    const { bin, binary, self } = krewLayout();
    const copied = await installHelper({ copy: true, env: { PATH: bin }, platform: 'linux', self });
    expect(copied.how).toBe('copy');
    expect(lstatSync(copied.helper).isFile()).toBe(true);
    expect(readFileSync(copied.helper, 'utf8')).toBe(readFileSync(binary, 'utf8'));
    expect(lstatSync(copied.helper).mode & 0o111).not.toBe(0);

    const script = file('npm/bin/kubectl-wand', '#!/usr/bin/env node\n');
    const wrapped = await installHelper({ copy: true, env: { PATH: path.dirname(script) }, platform: 'linux', self: { executable: script, standalone: false } });
    expect(wrapped.how).toBe('script');
    expect(readFileSync(wrapped.helper, 'utf8')).toBe(helperScript(script));
  });

  test('Windows copies (kubectl_complete-wand.exe)', async () => {
    const binary = file('win/kubectl-wand.exe', 'MZ pretend');
    const result = await installHelper({ env: { PATH: path.dirname(binary) }, platform: 'win32', self: { executable: binary, standalone: true } });
    expect(result.how).toBe('copy');
    expect(path.basename(result.helper)).toBe('kubectl_complete-wand.exe');
  });

  test('a different kubectl_complete-wand is kept unless --force', async () => {
    const { bin, self } = krewLayout();
    file('bin/kubectl_complete-wand', '#!/bin/sh\necho other\n');
    const refused = installHelper({ env: { PATH: bin }, platform: 'linux', self });
    await expect(refused).rejects.toThrow(WandError);
    await expect(refused).rejects.toThrow(/already exists/);
    expect(readFileSync(path.join(bin, 'kubectl_complete-wand'), 'utf8')).toContain('other');
    const forced = await installHelper({ force: true, env: { PATH: bin }, platform: 'linux', self });
    expect(readlinkSync(forced.helper)).toBe('kubectl-wand');
  });

  test('a directory it may not write: an error with a remedy', async () => {
    if (process.getuid?.() === 0) return; // root writes anywhere
    const { bin, self } = krewLayout();
    chmodSync(bin, 0o555);
    await expect(installHelper({ env: { PATH: bin }, platform: 'linux', self })).rejects.toMatchObject({ remedy: expect.stringMatching(/--dir/) });
  });
});

describe('findOnPath', () => {
  test('the first executable match, as kubectl would run it', async () => {
    file('a/kubectl-wand', 'not executable', 0o644);
    const second = file('b/kubectl-wand', 'x');
    file('c/kubectl-wand', 'x');
    const PATH = ['a', 'b', 'c'].map((d) => path.join(base, d)).join(':');
    expect(await findOnPath('kubectl-wand', { PATH }, 'linux')).toBe(second);
    expect(await findOnPath('kubectl-nope', { PATH }, 'linux')).toBeUndefined();
  });
});

describe('helperScript', () => {
  test('a POSIX script that runs kubectl-wand __complete with the words', () => {
    const script = helperScript();
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    expect(script).toContain('exec kubectl-wand __complete "$@"');
    expect(script).toContain('kubectl wand completion install');
    expect(helperScript("/opt/it's here/kubectl-wand")).toContain(`exec '/opt/it'\\''s here/kubectl-wand' __complete "$@"`);
  });

  test('it really works: run by sh with a stand-in kubectl-wand', () => {
    const bin = path.join(base, 'bin');
    file('bin/kubectl-wand', '#!/bin/sh\nfor a in "$@"; do echo "[$a]"; done\n');
    file('bin/kubectl_complete-wand', helperScript());
    const out = execFileSync(path.join(bin, 'kubectl_complete-wand'), ['debug', 'svc/'], { env: { PATH: `${bin}:/usr/bin:/bin` }, encoding: 'utf8' });
    expect(out).toBe('[__complete]\n[debug]\n[svc/]\n');
  });
});
