/**
 * `npm run package` end to end: built with no network at all (a fresh network namespace), the
 * single executable runs where only kubectl is on PATH, kubectl finds it as a plugin and as its
 * completion helper, it sends the embedded agent, and it starts about as fast as kubectl.
 * Also what npm would publish.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { e2eAvailable } from './support/wand-env';
import { PODS_WITH_PIDS, writeCapturingKubectl } from '../unit/packaging/capturing-kubectl';
import { assembleAgent } from '../../src/agent/assemble';

const ROOT = path.resolve(__dirname, '../..');
const SEA = path.join(ROOT, 'dist', 'bin', 'kubectl-wand');
const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const run = e2eAvailable() ? describe : describe.skip;
jest.setTimeout(120_000);

function which(bin: string): string {
  return execFileSync('sh', ['-c', 'command -v "$1"', 'sh', bin], { encoding: 'utf8' }).trim();
}

function sh(file: string, args: string[], env: NodeJS.ProcessEnv, timeout = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, cwd: ROOT, timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

run('npm run package: the single executable', () => {
  let base: string;
  /** a PATH directory holding nothing but a link to the real kubectl */
  let kubectlOnly: string;
  let built: { code: number; stdout: string; stderr: string; ms: number };

  beforeAll(async () => {
    base = mkdtempSync(path.join(os.tmpdir(), 'wand-package-'));
    kubectlOnly = path.join(base, 'kubectl-only');
    mkdirSync(kubectlOnly);
    symlinkSync(which('kubectl'), path.join(kubectlOnly, 'kubectl'));
    const started = Date.now();
    // a new network namespace has only a down loopback: any download would fail the build
    const result = await sh('unshare', ['--net', '--', 'npm', 'run', 'package'], { ...process.env, npm_config_update_notifier: 'false' }, 110_000);
    built = { ...result, ms: Date.now() - started };
  });
  afterAll(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });

  test('builds offline', () => {
    expect(built.stderr).not.toMatch(/ERR!|Error:/);
    expect(built.code).toBe(0);
    expect(existsSync(SEA)).toBe(true);
    process.stdout.write(`npm run package (offline): ${(built.ms / 1000).toFixed(1)} s\n`);
  });

  test('is a native executable that runs with only kubectl on PATH (no Node.js)', async () => {
    const head = Buffer.alloc(4);
    const fd = openSync(SEA, 'r');
    readSync(fd, head, 0, 4, 0);
    closeSync(fd);
    expect(head.toString('latin1')).toBe('\x7fELF');
    const env = { PATH: kubectlOnly };
    expect((await sh('/bin/sh', ['-c', 'command -v node || echo none'], env)).stdout.trim()).toBe('none');
    const result = await sh(SEA, ['--version'], env);
    expect(result).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  test('kubectl finds it as the wand plugin', async () => {
    const env = { PATH: `${path.dirname(SEA)}:${kubectlOnly}`, HOME: base };
    const list = await sh(path.join(kubectlOnly, 'kubectl'), ['plugin', 'list'], env);
    expect(list.stdout).toContain(SEA);
    expect(list.stderr).not.toMatch(/warning/i);
    const viaKubectl = await sh(path.join(kubectlOnly, 'kubectl'), ['wand', '--version'], env);
    expect(viaKubectl.stdout).toBe(`${version}\n`);
    const help = await sh(path.join(kubectlOnly, 'kubectl'), ['wand', '--help'], env);
    expect(help.stdout).toMatch(/^kubectl wand <command>/);
  });

  test('linked as kubectl_complete-wand it is the completion helper kubectl runs', async () => {
    const bin = path.join(base, 'bin');
    mkdirSync(bin);
    symlinkSync(SEA, path.join(bin, 'kubectl-wand'));
    const env = { PATH: `${bin}:${kubectlOnly}`, HOME: base };
    const install = await sh(SEA, ['completion', 'install'], env);
    expect(install.stdout).toContain(`installed: ${path.join(bin, 'kubectl_complete-wand')}`);
    const completed = await sh(path.join(kubectlOnly, 'kubectl'), ['__complete', 'wand', 'completion', ''], env);
    expect(completed.stdout.split('\n').filter(Boolean)).toEqual(['install\tPut the completion helper kubectl_complete-wand beside the installed kubectl-wand', 'print\tPrint a shell-script kubectl_complete-wand (save it on PATH, chmod +x) and how to use it', ':4']);
  });

  test('sends the agent embedded in it, byte for byte', () => {
    const alone = path.join(base, 'alone');
    mkdirSync(alone);
    const copy = path.join(alone, 'kubectl-wand');
    execFileSync('cp', [SEA, copy]);
    const fake = writeCapturingKubectl(mkdtempSync(path.join(base, 'fake-')));
    spawnSync(copy, PODS_WITH_PIDS, { env: { PATH: kubectlOnly, ...fake.env }, encoding: 'utf8', timeout: 20_000 });
    // what `npm run build` assembled (scripts/assemble-agent.ts): the same bytes went into the executable
    const agent = readFileSync(path.join(ROOT, 'build', 'src', 'agent', 'agent.py'), 'utf8');
    expect(agent).toBe(assembleAgent());
    expect(readFileSync(fake.stdinFile, 'utf8').slice(0, agent.length)).toBe(agent);
  });

  test('starts about as fast as kubectl version --client (scripts/startup-time.sh)', async () => {
    const result = await sh('bash', [path.join(ROOT, 'scripts', 'startup-time.sh')], { ...process.env, RUNS: '9' });
    expect(result.code).toBe(0);
    process.stdout.write(result.stdout);
    const ms = (label: string) => Number(new RegExp(`^${label}\\s+([\\d.]+) ms`, 'm').exec(result.stdout)?.[1]);
    const sea = ms('kubectl-wand --version');
    const kubectl = ms('kubectl version --client');
    expect(sea).toBeGreaterThan(0);
    expect(kubectl).toBeGreaterThan(0);
    // generous: a loaded CI machine; the numbers themselves are printed above
    expect(sea).toBeLessThan(Math.max(1000, kubectl * 10));
  });
});

run('npm pack', () => {
  test('ships the built CLI, the agent and LICENSE, with both bin names', () => {
    const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } })) as [
      { files: { path: string }[] },
    ];
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['build/src/cli/main.js', 'build/src/agent/agent.py', 'LICENSE', 'package.json']));
    expect(files.filter((f) => f.startsWith('dist/') || f.startsWith('test/') || f.startsWith('build/test/'))).toEqual([]);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin).toEqual({ 'kubectl-wand': 'build/src/cli/main.js', 'kubectl_complete-wand': 'build/src/cli/main.js' });
    expect(readFileSync(path.join(ROOT, 'build/src/cli/main.js'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});
