/**
 * The end-to-end fixture: a test cluster with the given manifests, and a runner for the real
 * `kubectl wand` (the built CLI installed as a kubectl plugin on PATH), with a kubectl wrapper
 * that counts every kubectl call the plugin makes.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from '../../cluster/api/objects';
import { startCluster, type TestCluster } from '../../cluster/cluster';
import type { PtraceScope } from '../../cluster/runtime/security';
import { ensureImages } from '../../cluster/images/images';
import type { Scenario } from './apps';
import { httpGetInPod } from './http-in-pod';

const ROOT = path.resolve(__dirname, '../../..');
const BUILT_CLI = path.join(ROOT, 'build/src/cli/main.js');

/** In CI the end-to-end suite must run: a missing prerequisite is a failure, never a skip. */
export function e2eAvailable(): boolean {
  const problems: string[] = [];
  if (process.getuid?.() !== 0 && !process.env.WAND_E2E_CONTEXT) problems.push('the test cluster needs root');
  if (!existsSync(BUILT_CLI)) problems.push(`build the CLI first (npm run build): ${BUILT_CLI} is missing`);
  if (problems.length === 0) return true;
  if (process.env.CI === 'true') throw new Error(`end-to-end prerequisites missing: ${problems.join('; ')}`);
  process.stderr.write(`skipping end-to-end tests: ${problems.join('; ')}\n`);
  return false;
}

export interface WandResult {
  code: number;
  stdout: string;
  stderr: string;
  /** the kubectl calls the plugin made, argv after `kubectl` */
  kubectlCalls: string[][];
  ms: number;
}

export interface WandEnv {
  cluster: TestCluster;
  /** environment for any kubectl or kubectl-wand child */
  env: NodeJS.ProcessEnv;
  /** runs `kubectl wand ARGS` to completion */
  wand(args: string[], opts?: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<WandResult>;
  /** starts `kubectl wand ARGS` and leaves it running (debug sessions) */
  spawnWand(args: string[], opts?: { env?: NodeJS.ProcessEnv }): WandChild;
  /** runs plain kubectl against the cluster */
  kubectl(args: string[], opts?: { timeoutMs?: number }): Promise<{ code: number; stdout: string; stderr: string }>;
  /** resolves once every Running pod of the namespaces accepts connections on the port */
  waitServing(namespaces: string[], port: number, timeoutMs?: number): Promise<void>;
  /** the first Running pod of a namespace matching labels */
  podName(namespace: string, labelSelector?: string): string;
  /** GET a scenario app's URL from inside its pod (kubectl exec), as a client of the app would */
  getApp(app: Pick<Scenario, 'namespace' | 'container' | 'url'>, pod: string, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

export interface WandChild {
  child: ChildProcess;
  /** every stdout line so far */
  lines: string[];
  stderr(): string;
  /** resolves with the first stdout JSON event matching the predicate */
  nextEvent(match: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<number>;
  kubectlCalls(): string[][];
  /** SIGINT to the whole process group, as a terminal's Ctrl-C */
  interrupt(): void;
}

/** A kubectl that appends its argv (as one JSON line) to $WAND_CALL_LOG, then runs the real one. */
async function writeCountingKubectl(dir: string): Promise<string> {
  const real = await which('kubectl');
  const file = path.join(dir, 'kubectl');
  await fs.writeFile(
    file,
    `#!/usr/bin/env node
const { appendFileSync } = require('node:fs');
const { spawn } = require('node:child_process');
if (process.env.WAND_CALL_LOG) appendFileSync(process.env.WAND_CALL_LOG, JSON.stringify(process.argv.slice(2)) + '\\n');
const child = spawn(${JSON.stringify(real)}, process.argv.slice(2), { stdio: 'inherit' });
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 15 : 1)));
`,
    { mode: 0o755 },
  );
  return file;
}

function which(bin: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('sh', ['-c', 'command -v "$1"', 'sh', bin], (err, stdout) => (err ? reject(new Error(`${bin} not on PATH`)) : resolve(stdout.trim()))),
  );
}

/** kubectl calls the plugin made (the test's own `kubectl wand` invocation is not one). */
function readCalls(logFile: string): string[][] {
  if (!existsSync(logFile)) return [];
  const calls = readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]);
  return calls.filter((args) => args[0] !== 'wand');
}

/** Set by test/e2e/run-on-kind.sh: run against that real cluster instead of the emulator. */
export const REAL_CONTEXT = process.env.WAND_E2E_CONTEXT;

function emulatorOnly(what: string): never {
  throw new Error(`${what} needs the test cluster's fault hooks; not available against ${REAL_CONTEXT}`);
}

/**
 * A real cluster (kind) seen through the TestCluster shape: listing and deleting pods go through
 * kubectl; fault hooks exist only in the emulator, and tests that use them fail there, by name.
 */
async function realCluster(base: string): Promise<TestCluster> {
  const kubeconfig = path.join(base, 'kubeconfig');
  const view = await new Promise<string>((resolve, reject) =>
    execFile('kubectl', ['config', 'view', '--raw', '--minify', '--flatten', '--context', REAL_CONTEXT as string], (err, out) => (err ? reject(err) : resolve(out))),
  );
  await fs.writeFile(kubeconfig, view, { mode: 0o600 });
  const kubectlJson = (args: string[]) =>
    JSON.parse(execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args, '-o', 'json'], { encoding: 'utf8', maxBuffer: 32 << 20 })) as { items: Pod[] };
  return {
    kubeconfig,
    url: '',
    pods: (namespace: string, labelSelector?: string) => kubectlJson(['get', 'pods', '-n', namespace, ...(labelSelector ? ['-l', labelSelector] : [])]).items,
    deletePod(namespace: string, name: string, graceSeconds?: number) {
      execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'delete', 'pod', name, '-n', namespace, '--wait=false', ...(graceSeconds === undefined ? [] : [`--grace-period=${graceSeconds}`])]);
    },
    apply: async () => emulatorOnly('apply'),
    settled: async () => undefined,
    killContainer: async () => emulatorOnly('killContainer'),
    dropConnections: () => emulatorOnly('dropConnections'),
    volumeDir: () => emulatorOnly('volumeDir'),
    stop: async () => undefined,
    get store(): never {
      return emulatorOnly('store');
    },
    get runtime(): never {
      return emulatorOnly('runtime');
    },
    hooks: {},
  } as unknown as TestCluster;
}

/** options.ptraceScope: the emulated node's kernel.yama.ptrace_scope (ignored on a real cluster) */
export async function startWandEnv(manifests: string[], options: { ptraceScope?: PtraceScope } = {}): Promise<WandEnv> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'wand-e2e-'));
  const bin = path.join(base, 'bin');
  const home = path.join(base, 'home');
  await fs.mkdir(bin, { recursive: true });
  await fs.mkdir(home, { recursive: true });
  await fs.symlink(BUILT_CLI, path.join(bin, 'kubectl-wand'));
  const countingKubectl = await writeCountingKubectl(bin);
  // On a real cluster run-on-kind.sh has applied the manifests already.
  const cluster = REAL_CONTEXT ? await realCluster(base) : await ensureImages().then(() => startCluster({ stateDir: path.join(base, 'state'), manifests, ptraceScope: options.ptraceScope }));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    HOME: home,
    KUBECONFIG: cluster.kubeconfig,
    KUBECTL_PATH: countingKubectl,
    NO_COLOR: '1',
  };
  delete env.FORCE_COLOR;
  let runs = 0;
  const callLog = () => path.join(base, `calls-${++runs}.jsonl`);

  const wandEnv: WandEnv = {
    cluster,
    env,
    wand(args, opts = {}) {
      const log = callLog();
      const started = Date.now();
      return new Promise((resolve) => {
        const child = execFile(
          'kubectl',
          ['wand', ...args],
          { env: { ...env, ...opts.env, WAND_CALL_LOG: log }, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 32 << 20 },
          (err, stdout, stderr) => {
            const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
            resolve({ code, stdout, stderr, kubectlCalls: readCalls(log), ms: Date.now() - started });
          },
        );
        if (opts.input !== undefined) child.stdin?.end(opts.input);
        else child.stdin?.end();
      });
    },
    spawnWand(args, opts = {}) {
      const log = callLog();
      // Its own process group, so interrupt() reaches kubectl and the plugin as Ctrl-C would.
      const child = spawn('kubectl', ['wand', ...args], { env: { ...env, ...opts.env, WAND_CALL_LOG: log }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      return watchChild(child, log);
    },
    kubectl(args, opts = {}) {
      return new Promise((resolve) => {
        execFile('kubectl', args, { env, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
        });
      });
    },
    async waitServing(namespaces, port, timeoutMs = 60_000) {
      if (REAL_CONTEXT) return; // run-on-kind.sh waited for the deployments
      const deadline = Date.now() + timeoutMs;
      const pods = namespaces.flatMap((ns) => cluster.pods(ns)).filter((p) => p.status.phase === 'Running');
      await Promise.all(pods.map(async (pod) => {
        for (;;) {
          try {
            const socket = await cluster.runtime.dialPort(pod.metadata.uid, port);
            socket.destroy();
            return;
          } catch (error) {
            if (Date.now() > deadline) throw new Error(`${pod.metadata.namespace}/${pod.metadata.name} does not serve on ${port}: ${(error as Error).message}`);
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      }));
    },
    podName(namespace, labelSelector) {
      const pod = cluster.pods(namespace, labelSelector).find((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp);
      if (!pod) throw new Error(`no Running pod in ${namespace} (${labelSelector ?? 'any'})`);
      return pod.metadata.name;
    },
    getApp(app, pod, timeoutMs) {
      return httpGetInPod(['--kubeconfig', cluster.kubeconfig, '-n', app.namespace], pod, app.container, app.url, timeoutMs === undefined ? {} : { timeoutMs });
    },
    async stop() {
      await cluster.stop();
      await fs.rm(base, { recursive: true, force: true });
    },
  };
  return wandEnv;
}

function watchChild(child: ChildProcess, log: string): WandChild {
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  const waiters: Array<() => void> = [];
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
    for (const w of waiters.splice(0)) w();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  void exited.then(() => {
    for (const w of waiters.splice(0)) w();
  });
  let scanned = 0;
  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    kubectlCalls: () => readCalls(log),
    interrupt() {
      if (child.pid) process.kill(-child.pid, 'SIGINT');
    },
    async nextEvent(match, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        while (scanned < lines.length) {
          const line = lines[scanned++];
          try {
            const event = JSON.parse(line) as Record<string, unknown>;
            if (match(event)) return event;
          } catch {
            // not JSON: ignore
          }
        }
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`kubectl wand exited (${child.exitCode ?? child.signalCode}) before the event; stderr:\n${stderr}`);
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out waiting for an event; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
  };
}
