/**
 * The one-file bundle that goes into the single executable (scripts/package.ts `bundle`): nothing
 * left to require but Node's built-ins, the assembled agent inside it, and it behaves like the built CLI.
 */
import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundle, bundleOptions, seaConfig, ROOT } from '../../../scripts/package';
import { assembleAgent } from '../../../src/agent/assemble';
import { PODS_WITH_PIDS, writeCapturingKubectl } from './capturing-kubectl';

jest.setTimeout(60_000);

const packageJson = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

let dir: string;
let bundled: string;
let agentSource: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'wand-bundle-'));
  agentSource = assembleAgent();
  bundled = await bundle(path.join(dir, 'sea'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the bundle as `name` (a link to it) in an environment holding only `env`. */
function runAs(name: string, args: string[], env: Record<string, string> = {}) {
  const link = path.join(dir, name);
  rmSync(link, { force: true });
  symlinkSync(bundled, link);
  return spawnSync(process.execPath, [link, ...args], { env: { PATH: '/nonexistent', ...env }, encoding: 'utf8', timeout: 20_000 });
}

test('the configuration: one CommonJS file for Node 20 with agent.py defined in', () => {
  const options = bundleOptions('print("agent")', '/out.cjs');
  expect(options).toMatchObject({ bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: '/out.cjs' });
  expect(options.define).toEqual({ WAND_EMBEDDED_AGENT: '"print(\\"agent\\")"' });
  expect(seaConfig('/m.cjs', '/b.blob', true)).toEqual({
    main: '/m.cjs',
    output: '/b.blob',
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: true,
  });
});

test("requires nothing but Node's built-ins (inside a SEA require() loads nothing else)", () => {
  const text = readFileSync(bundled, 'utf8');
  const required = new Set([...text.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!));
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`), 'node:sea']);
  expect([...required].filter((name) => !builtins.has(name))).toEqual([]);
  expect(text).not.toContain('WAND_EMBEDDED_AGENT');
  expect(text).not.toMatch(/import\.meta/);
});

test('--version and --help, run from a directory without agent.py or node_modules', () => {
  const version = runAs('kubectl-wand', ['--version']);
  expect(version.stdout.trim()).toBe(packageJson.version);
  const help = runAs('kubectl-wand', ['--help']);
  expect(help.status).toBe(0);
  expect(help.stdout).toMatch(/^kubectl wand <command>/);
  // the CommonJS builds of the dependencies, as under tsc: yargs' help wraps as the built CLI's does
  expect(help.stdout).toContain('Attach a debugger to a live Python 3.14 process in a Kubernetes pod.\n');
  const bad = runAs('kubectl-wand', ['bogus']);
  expect(bad.status).toBe(2);
  expect(bad.stderr).toContain("run 'kubectl wand --help'");
});

test('under the name kubectl_complete-wand it completes', () => {
  const result = runAs('kubectl_complete-wand', ['']);
  expect(result.status).toBe(0);
  expect(result.stdout).toMatch(/^pods\t/m);
  expect(result.stdout).toMatch(/^completion\t/m);
  expect(result.stdout.endsWith(':4\n')).toBe(true);
});

test('feeds the embedded agent (the assembled program) to kubectl exec, byte for byte', () => {
  const alone = path.join(dir, 'alone');
  const fake = writeCapturingKubectl(mkdtempSync(path.join(dir, 'kubectl-')));
  rmSync(alone, { recursive: true, force: true });
  mkdirSync(alone);
  copyFileSync(bundled, path.join(alone, 'kubectl-wand.cjs'));
  const result = spawnSync(process.execPath, [path.join(alone, 'kubectl-wand.cjs'), ...PODS_WITH_PIDS], {
    env: { PATH: '/nonexistent', ...fake.env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(result.stderr).not.toMatch(/ENOENT|agent\.py/);
  const sent = readFileSync(fake.stdinFile, 'utf8');
  expect(sent.slice(0, agentSource.length)).toBe(agentSource);
  expect(sent.slice(agentSource.length)).toMatch(/^\nmain\("[A-Za-z0-9+/=]+"\)\n$/);
});

test('THIRD-PARTY-NOTICES names the bundled packages with their licences', () => {
  const notices = readFileSync(path.join(dir, 'sea', 'THIRD-PARTY-NOTICES.txt'), 'utf8');
  for (const name of ['yargs', 'execa', 'kleur', 'enquirer']) expect(notices).toMatch(new RegExp(`^${name}@\\S+ \\(MIT\\)`, 'm'));
  expect(notices).toContain('Permission is hereby granted');
});
