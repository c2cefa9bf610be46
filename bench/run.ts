/**
 * `npm run bench`: how fast and how heavy kubectl-wand is, measured on the test cluster next to
 * what kubectl itself costs. Prints a markdown table and writes bench/results.json (every raw
 * sample; each figure is the median of BENCH_RUNS runs, default 9).
 *
 * Measured side by side in one run:
 *  - time to ready of `kubectl wand debug -o json` (spawn → `ready`) for a fresh worker (first
 *    attach) and for a re-attach to the same worker (the first session closed its listener when it
 *    ended, issue 15: a fresh listen in a process that already imported debugpy), each against the
 *    kubectl floor measured right before it: get svc, get pods -l, exec python3 -c pass,
 *    port-forward until "Forwarding from";
 *  - re-injection after a uvicorn --reload: from the file write (upper bound) and from the new
 *    worker's own start time (/proc/PID/stat starttime) to the `reinjected` event;
 *  - `pods --with-pids` over 1, 5, 10 and 20 pods: wall time and number of kubectl calls;
 *  - time to ready on a fresh uvicorn --reload worker on Python 3.13 (the ptrace injector) next to
 *    the same on 3.14 (sys.remote_exec), alternating in one run;
 *  - time to ready through the ephemeral route (issue 14) on a cluster of its own with Yama
 *    ptrace_scope=1, against its own floor: kubectl debug -i until the container runs, exec,
 *    port-forward (BENCH_ONLY=ephemeral runs only this);
 *  - start-up of dist/bin/kubectl-wand --version next to kubectl version --client;
 *  - peak RSS (VmHWM) of the plugin's node process in a session; the worker's RSS before and
 *    after injection (rssBytes from `pods --with-pids -o json`).
 *
 * kubectl-wand runs here as a user runs it: `kubectl wand …` through the real kubectl (a Google
 * Cloud SDK dispatcher running kubectl.1.32, which execs the plugin), with KUBECTL_PATH set to a
 * tiny sh wrapper that stamps each call's start time into a log and execs the real kubectl (the
 * e2e fixture's counting wrapper is a node process, ~50 ms per call, so it is used only to
 * cross-check call counts). The floor runs the same real kubectl.
 *
 * Needs root (the test cluster). Env: BENCH_RUNS (9), BENCH_STARTUP_RUNS (30), BENCH_POD_COUNTS (1,5,10,20), BENCH_OUT
 * (bench/results.json), BENCH_PLUGIN (`node`: run the npm build instead of the single executable).
 */
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, promises as fs, readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { SCENARIOS, type Scenario } from '../test/e2e/support/apps';
import { startWandEnv, type WandChild, type WandEnv } from '../test/e2e/support/wand-env';

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const STARTUP_RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 30);
const OUT = path.resolve(process.env.BENCH_OUT ?? path.join(ROOT, 'bench/results.json'));
/** BENCH_POD_COUNTS=1 for a quick run on a loaded machine (the 20-pod rows then read n/a) */
const POD_COUNTS = (process.env.BENCH_POD_COUNTS ?? '1,5,10,20').split(',').map(Number).filter((n) => n > 0);
const APP = SCENARIOS['fastapi-uvicorn-reload'];
const NS = APP.namespace;
const MANY = SCENARIOS['many-pods'];
/** the same kind of app (uvicorn --reload) on Python 3.13: injected by the ptrace injector */
const PY313 = SCENARIOS['py313/reload'];
const EXE = path.join(ROOT, 'dist/bin/kubectl-wand');
const BUILT_CLI = path.join(ROOT, 'build/src/cli/main.js');
/** what `kubectl wand` runs: the single executable krew installs (default), or npm's node build */
const PLUGIN = process.env.BENCH_PLUGIN === 'node' ? BUILT_CLI : EXE;
const PLUGIN_LABEL = PLUGIN === EXE ? 'the single executable (krew)' : 'the node build (npm)';
/** the floor of `pods --with-pids`: this many bare execs at once */
const EXEC_FLOOR_COUNTS = [1, 20].filter((n) => POD_COUNTS.includes(n));

// ---------------------------------------------------------------- small helpers

/** wall clock in epoch milliseconds with sub-millisecond resolution */
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** median; NaN samples are dropped, ±Infinity kept (a run that never finished) */
function median(xs: number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const round = (x: number, digits = 0) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

function which(bin: string, pathVar = process.env.PATH ?? ''): string {
  for (const dir of pathVar.split(':')) {
    const file = path.join(dir, bin);
    try {
      if (statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  throw new Error(`${bin} is not on PATH`);
}

/** CLOCK_BOOTTIME's zero as an epoch time: /proc/uptime is read until it ticks, for sub-tick accuracy. */
function bootEpochMs(): number {
  const read = () => parseFloat(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const first = read();
  const deadline = Date.now() + 100;
  for (;;) {
    const t = now();
    const v = read();
    if (v !== first || Date.now() > deadline) return t - v * 1000;
  }
}

function statFields(pid: number): string[] | null {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2).split(' '); // [0] is field 3 (state)
  } catch {
    return null;
  }
}
function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}
/** the process and all its descendants */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const f = statFields(Number(d));
    if (!f) continue;
    const ppid = Number(f[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    const p = queue.shift() as number;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}
function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- setup

interface Bench {
  env: WandEnv;
  /** env for the real kubectl and `kubectl wand` without the counting wrapper */
  base: NodeJS.ProcessEnv;
  realKubectl: string;
  dir: string;
  logs: number;
}

/** `kubectl-ts`: stamps each call's start (ns) and first args into $WAND_TS_LOG, then execs kubectl. */
const TS_WRAPPER = `#!/bin/sh
[ -n "$WAND_TS_LOG" ] && printf '@@ %s %.240s\\n' "$(date +%s%N)" "$*" >> "$WAND_TS_LOG"
exec "$REAL_KUBECTL" "$@"
`;

interface Call {
  /** ms after the `kubectl wand` spawn */
  at: number;
  args: string;
}
function readCalls(file: string, t0: number): Call[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('@@ ')
    .filter(Boolean)
    .map((rec) => {
      const sp = rec.indexOf(' ');
      return { at: Number(rec.slice(0, sp)) / 1e6 - t0, args: rec.slice(sp + 1).replace(/\s+/g, ' ').trim() };
    });
}
function callKind(args: string): string {
  const a = args.replace(/--(kubeconfig|context|cluster|user|as|request-timeout)(=| )\S+ ?/g, '');
  if (/^get (svc|service)\b/.test(a)) return 'get svc';
  if (/^get pods\b/.test(a)) return 'get pods -l';
  if (/^get pod\b/.test(a)) return 'get pod';
  if (/^get /.test(a)) return a.split(' ').slice(0, 2).join(' ');
  if (/^exec\b/.test(a)) return 'exec (agent)';
  if (/^port-forward\b/.test(a)) return 'port-forward';
  if (/^config\b/.test(a)) return 'config';
  return a.split(' ')[0];
}

function runKubectl(b: Bench, args: string[], timeoutMs = 30_000): Promise<{ ms: number; code: number; stdout: string; stderr: string }> {
  const t = now();
  return new Promise((resolve) => {
    execFile(b.realKubectl, args, { env: b.base, timeout: timeoutMs, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      resolve({ ms: now() - t, code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------- the kubectl floor

interface Floor {
  getSvc: number;
  getPods: number;
  exec: number;
  portForward: number;
  total: number;
}

async function portForwardUntilForwarding(b: Bench, pod: string): Promise<number> {
  const t = now();
  const child = spawn(b.realKubectl, ['port-forward', '--address', '127.0.0.1', `pod/${pod}`, ':5679', '-n', NS], { env: b.base, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((r) => child.on('close', r));
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const ms = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`port-forward: no "Forwarding from" in 20 s: ${err}`)), 20_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('Forwarding from')) {
        clearTimeout(timer);
        resolve(now() - t);
      }
    });
    child.on('close', (code) => reject(new Error(`port-forward exited (${code}): ${err}`)));
  });
  child.kill('SIGTERM');
  await exited;
  return ms;
}

async function measureFloor(b: Bench, pod: string): Promise<Floor> {
  const step = async (args: string[]) => {
    const r = await runKubectl(b, args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.ms;
  };
  const t = now();
  const getSvc = await step(['get', 'svc', APP.service, '-n', NS, '-o', 'json']);
  const getPods = await step(['get', 'pods', '-n', NS, '-l', 'app=api', '-o', 'json']);
  const exec = await step(['exec', pod, '-n', NS, '--', 'python3', '-c', 'pass']);
  const portForward = await portForwardUntilForwarding(b, pod);
  return { getSvc, getPods, exec, portForward, total: now() - t };
}

// ---------------------------------------------------------------- in-pod probes (no kubectl)

async function podPython(b: Bench, pod: string, code: string, s: Scenario = APP): Promise<string> {
  const found = b.env.cluster.pods(s.namespace).find((p) => p.metadata.name === pod);
  if (!found) throw new Error(`pod ${pod} not found`);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const r = await b.env.cluster.runtime.exec(
    { podUid: found.metadata.uid, container: s.container, command: ['python3', '-c', code], tty: false },
    { stdin: null, stdout, stderr },
    new AbortController().signal,
  );
  await new Promise((r2) => setImmediate(r2));
  if ('error' in r || r.exitCode !== 0) throw new Error(`in-pod python failed: ${'error' in r ? r.error : err}`);
  return out;
}

/** pid, ppid and starttime (clock ticks since boot) of every uvicorn reload worker */
const WORKERS_PY = `
import json, os
out = []
for p in os.listdir('/proc'):
    if not p.isdigit():
        continue
    try:
        cmd = open(f'/proc/{p}/cmdline', 'rb').read()
        st = open(f'/proc/{p}/stat').read()
    except OSError:
        continue
    if b'spawn_main' in cmd:
        f = st[st.rindex(')') + 2:].split()
        out.append({'pid': int(p), 'ppid': int(f[1]), 'starttime': int(f[19])})
print(json.dumps({'hz': os.sysconf('SC_CLK_TCK'), 'workers': out}))
`;

interface Worker {
  pid: number;
  ppid: number;
  /** epoch ms, ±1 tick */
  startedAt: number;
}
async function workers(b: Bench, pod: string, boot: number, s: Scenario = APP): Promise<Worker[]> {
  const r = JSON.parse(await podPython(b, pod, WORKERS_PY, s)) as { hz: number; workers: Array<{ pid: number; ppid: number; starttime: number }> };
  return r.workers.map((w) => ({ pid: w.pid, ppid: w.ppid, startedAt: boot + (w.starttime * 1000) / r.hz }));
}

async function dialable(b: Bench, pod: string, s: Scenario = APP): Promise<boolean> {
  const found = b.env.cluster.pods(s.namespace).find((p) => p.metadata.name === pod);
  if (!found) return false;
  try {
    const s = await b.env.cluster.runtime.dialPort(found.metadata.uid, 8000);
    s.destroy();
    return true;
  } catch {
    return false;
  }
}

let touches = 0;
async function touchApp(b: Bench, pod: string, s: Scenario = APP): Promise<number> {
  const file = path.join(b.env.cluster.volumeDir(s.namespace, pod, 'src'), path.basename(s.appFile));
  const t = now();
  await fs.appendFile(file, `\n# touched by the bench (${++touches})\n`);
  return t;
}

/** Rewrites the app and waits until a new worker (not `old`) serves: a never-injected process. */
async function freshWorker(b: Bench, pod: string, old: number, boot: number, s: Scenario = APP): Promise<Worker> {
  const before = new Set([old, ...(await workers(b, pod, boot, s)).map((w) => w.pid)]);
  await touchApp(b, pod, s);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ws = (await workers(b, pod, boot, s)).filter((w) => w.ppid === 1 && !before.has(w.pid));
    if (ws.length === 1 && (await dialable(b, pod, s))) {
      await sleep(500); // let its start-up settle
      return ws[0];
    }
    if (Date.now() > deadline) throw new Error('no new uvicorn worker within 60 s');
    await sleep(100);
  }
}

// ---------------------------------------------------------------- kubectl wand runs

interface VersionSample {
  python: '3.13' | '3.14';
  injector: unknown;
  readyMs: number;
}

/** Time to ready on a never-injected uvicorn --reload worker of `s` (a fresh one each time). */
async function readyOnFreshWorker(b: Bench, s: Scenario, pod: string, prev: { pid: number }, boot: number): Promise<VersionSample> {
  const worker = await freshWorker(b, pod, prev.pid, boot, s);
  prev.pid = worker.pid;
  const r = startDebug(b, s);
  try {
    const ready = await r.waitFor('ready', 120_000);
    await stopDebug(r);
    return { python: s === PY313 ? '3.13' : '3.14', injector: ready.event.injector, readyMs: ready.at };
  } catch (error) {
    if (r.child.child.exitCode === null && r.child.child.pid) process.kill(-r.child.child.pid, 'SIGKILL');
    throw error;
  }
}

interface ProcessJson {
  pid: number;
  recommended: boolean;
  rssBytes: number;
}
async function workerRss(b: Bench): Promise<{ pid: number; rssBytes: number }> {
  const r = await b.env.wand(['pods', `svc/${APP.service}`, '-n', NS, '--with-pids', '-o', 'json'], { env: { ...wandOverrides(b) } });
  if (r.code !== 0) throw new Error(`wand pods failed: ${r.stderr}`);
  const pods = (JSON.parse(r.stdout) as { pods: Array<{ processes: ProcessJson[] | null }> }).pods;
  const w = pods[0]?.processes?.find((p) => p.recommended);
  if (!w) throw new Error('no recommended worker in wand pods');
  return { pid: w.pid, rssBytes: w.rssBytes };
}

function wandOverrides(b: Bench, tsLog?: string): NodeJS.ProcessEnv {
  return { PATH: b.base.PATH, KUBECTL_PATH: b.base.KUBECTL_PATH, REAL_KUBECTL: b.realKubectl, WAND_TS_LOG: tsLog ?? '' };
}

interface Target {
  pid: number;
  localPort: number;
  remotePort: number;
  reused: boolean;
}
interface Running {
  child: WandChild;
  t0: number;
  tsLog: string;
  /** stdout events with the time they arrived, ms after spawn */
  events: Array<{ at: number; event: Record<string, unknown> }>;
  waitFor(kind: string, timeoutMs?: number): Promise<{ at: number; event: Record<string, unknown> }>;
}

function startDebug(b: Bench, s: Scenario = APP, extra: string[] = []): Running {
  const tsLog = path.join(b.dir, `calls-${++b.logs}.log`);
  const t0 = now();
  const child = b.env.spawnWand(['debug', `svc/${s.service}`, '-n', s.namespace, '-o', 'json', '--local-port', '0', ...extra], { env: wandOverrides(b, tsLog) });
  const events: Running['events'] = [];
  let partial = '';
  const waiters: Array<() => void> = [];
  child.child.stdout?.on('data', (chunk: string | Buffer) => {
    const at = now() - t0;
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts.filter(Boolean)) {
      try {
        events.push({ at, event: JSON.parse(line) as Record<string, unknown> });
      } catch {
        // not JSON
      }
    }
    for (const w of waiters.splice(0)) w();
  });
  void child.exited.then(() => {
    for (const w of waiters.splice(0)) w();
  });
  return {
    child,
    t0,
    tsLog,
    events,
    async waitFor(kind, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.find((e) => e.event.event === kind);
        if (found) return found;
        const err = events.find((e) => e.event.event === 'error' && e.event.fatal);
        if (err) throw new Error(`kubectl wand debug failed: ${JSON.stringify(err.event)}\n${child.stderr()}`);
        if (child.child.exitCode !== null || child.child.signalCode !== null) throw new Error(`kubectl wand debug exited before ${kind}: ${child.stderr()}`);
        if (Date.now() > deadline) throw new Error(`no ${kind} event in ${timeoutMs} ms: ${child.stderr()}`);
        await new Promise<void>((r) => {
          const timer = setTimeout(r, 200);
          waiters.push(() => {
            clearTimeout(timer);
            r();
          });
        });
      }
    },
  };
}

/** the plugin's own node process (kubectl execs kubectl-wand, a node script) */
function pluginPid(r: Running): number | null {
  const root = r.child.child.pid;
  if (!root) return null;
  return processTree(root).find((p) => /kubectl-wand|cli\/main\.js/.test(cmdline(p))) ?? null;
}

async function stopDebug(r: Running): Promise<number> {
  const t = now();
  try {
    r.child.interrupt();
  } catch {
    // it already ended
  }
  const code = await Promise.race([r.child.exited, sleep(10_000).then(() => null)]);
  if (code === null) {
    if (r.child.child.pid) process.kill(-r.child.child.pid, 'SIGKILL');
    throw new Error('kubectl wand debug did not stop within 10 s of Ctrl-C');
  }
  return now() - t;
}

interface DebugSample {
  floor: Floor;
  readyMs: number;
  chosenMs: number;
  ratio: number;
  targets: Target[];
  calls: Call[];
  pluginPeakRssKb: number | null;
  /** RSS of the whole `kubectl wand` process tree (dispatcher, plugin, kubectl children) at ready */
  treeRssKbAtReady: number;
  stopMs: number;
  /** every stdout event: name and ms after spawn */
  events: Array<{ at: number; event: string; pids?: number[] }>;
  /** the plugin's stderr (its parting note) */
  stderr: string;
}

async function attachOnce(b: Bench, pod: string, expectReused: boolean, during?: (r: Running) => Promise<void>): Promise<DebugSample> {
  const floor = await measureFloor(b, pod);
  await sleep(200);
  const r = startDebug(b);
  try {
    const chosen = await r.waitFor('chosen');
    const ready = await r.waitFor('ready');
    const targets = ready.event.targets as Target[];
    if (targets.length !== 1 || targets[0].reused !== expectReused) {
      log(`  warning: expected one target with reused=${expectReused}: ${JSON.stringify(targets)}`);
    }
    const treeRssKbAtReady = r.child.child.pid ? processTree(r.child.child.pid).reduce((s, p) => s + (statusKb(p, 'VmRSS') ?? 0), 0) : 0;
    await during?.(r);
    const plugin = pluginPid(r);
    const pluginPeakRssKb = plugin ? statusKb(plugin, 'VmHWM') : null;
    const stopMs = await stopDebug(r);
    return {
      floor,
      readyMs: ready.at,
      chosenMs: chosen.at,
      ratio: ready.at / floor.total,
      targets,
      calls: readCalls(r.tsLog, r.t0),
      pluginPeakRssKb,
      treeRssKbAtReady,
      stopMs,
      events: r.events.map((e) => ({
        at: round(e.at, 1) as number,
        event: String(e.event.event),
        ...(Array.isArray(e.event.targets) ? { pids: (e.event.targets as Target[]).map((t) => t.pid) } : {}),
      })),
      stderr: r.child.stderr().slice(-2000),
    };
  } catch (error) {
    if (r.child.child.exitCode === null && r.child.child.pid) process.kill(-r.child.child.pid, 'SIGKILL');
    throw error;
  }
}

const REINJECT_TIMEOUT_MS = 20_000;

interface ReinjectSample {
  /** false: no `reinjected` event within REINJECT_TIMEOUT_MS (counted as +∞ in the median) */
  ok: boolean;
  /** file rewritten → `reinjected` (an upper bound) */
  fromWriteMs: number | null;
  /** the new worker's process start → `reinjected` */
  fromWorkerStartMs: number | null;
  /** file rewritten → new worker started (uvicorn's own reload latency) */
  reloadMs: number | null;
  oldPid: number;
  /** the pid the `reinjected` event names */
  newPid: number | null;
  /** the new uvicorn worker (pid, ppid 1, spawn_main) */
  workerPid: number | null;
  /** the events and errors after the write, for diagnosis */
  after: Array<{ at: number; event: string; pid?: number; message?: string; pids?: number[] }>;
}

interface IterationSample {
  fresh: DebugSample;
  reused: DebugSample;
  /** the fresh attach chose the uvicorn worker (not another process) */
  freshTargetIsWorker: boolean;
  /** the second attach (after the first closed its listener) found the same process */
  reattachSamePid: boolean;
  reinject: ReinjectSample;
  workerRssBefore: number;
  workerRssAfter: number;
  workerPid: number;
}

async function debugIteration(b: Bench, pod: string, boot: number, prevWorker: number | null): Promise<IterationSample> {
  const worker = prevWorker === null ? (await workers(b, pod, boot)).find((w) => w.ppid === 1) : await freshWorker(b, pod, prevWorker, boot);
  if (!worker) throw new Error('no uvicorn worker');
  const before = await workerRss(b);
  if (before.pid !== worker.pid) throw new Error(`wand pods recommends ${before.pid}, the worker is ${worker.pid}`);
  await sleep(300);
  let after = before;
  const fresh = await attachOnce(b, pod, false, async () => {
    after = await workerRss(b);
  });
  await sleep(300);
  let reinject: ReinjectSample | undefined;
  // the re-attach: the fresh session closed its listener at its end, so this one listens again
  const reused = await attachOnce(b, pod, false, async (r) => {
    await sleep(300);
    const seen = r.events.length;
    const tWrite = await touchApp(b, pod);
    const ev = await r.waitFor('reinjected', REINJECT_TIMEOUT_MS).catch(() => null);
    const tRe = ev ? r.t0 + ev.at : NaN;
    const newPid = ev ? (ev.event.targets as Target[])[0].pid : null;
    const started = (await workers(b, pod, boot)).find((w) => w.ppid === 1 && w.pid !== worker.pid) ?? null;
    const after = r.events.slice(seen, seen + 40).map((e) => ({
      at: round(e.at - (tWrite - r.t0), 1) as number,
      event: String(e.event.event),
      ...(typeof e.event.pid === 'number' ? { pid: e.event.pid } : {}),
      ...(typeof e.event.message === 'string' ? { message: e.event.message.slice(0, 160) } : {}),
      ...(Array.isArray(e.event.targets) ? { pids: (e.event.targets as Target[]).map((t) => t.pid) } : {}),
    }));
    const ok = ev !== null && started !== null && newPid === started.pid;
    reinject = {
      ok,
      fromWriteMs: ev ? tRe - tWrite : null,
      fromWorkerStartMs: ok && started ? tRe - started.startedAt : null,
      reloadMs: started ? started.startedAt - tWrite : null,
      oldPid: worker.pid,
      newPid,
      workerPid: started?.pid ?? null,
      after,
    };
  });
  return { fresh, reused, freshTargetIsWorker: fresh.targets[0]?.pid === worker.pid, reattachSamePid: reused.targets[0]?.pid === fresh.targets[0]?.pid, reinject: reinject as ReinjectSample, workerRssBefore: before.rssBytes, workerRssAfter: after.rssBytes, workerPid: worker.pid };
}

// ---------------------------------------------------------------- the ephemeral route (issue 14)

interface EphemeralSample {
  /** `kubectl debug -i` until its container ran and answered one line */
  debug: number;
  exec: number;
  portForward: number;
  floor: number;
  readyMs: number;
  ratio: number;
  route: unknown;
  calls: Call[];
  /** the CLI's JSON events: ms after the spawn, and the event's name */
  marks: Array<[number, unknown]>;
}

/**
 * Time to ready through the ephemeral route, on a test cluster of its own whose node has Yama
 * ptrace_scope=1 (`kubectl exec` may not trace the app), against its kubectl floor measured right
 * before each attach: `kubectl debug -i --target --profile general` with the app's image until the
 * container runs and answers one line, `kubectl exec … python3 -c pass`, port-forward until
 * "Forwarding from". The first run is a warm-up. Each run leaves two terminated ephemeral
 * containers in the pod (Kubernetes cannot remove them): the floor's and kubectl-wand's.
 */
async function ephemeralRoute(b: Bench): Promise<{ rows: string[][]; figures: Record<string, number>; samples: EphemeralSample[] }> {
  log(`the ephemeral route (Yama ptrace_scope=1): a cluster of its own, ${RUNS} runs`);
  const env = await startWandEnv([APP.manifest], { ptraceScope: 1 });
  const base: NodeJS.ProcessEnv = { ...env.env, PATH: b.base.PATH, KUBECTL_PATH: b.base.KUBECTL_PATH, REAL_KUBECTL: b.realKubectl };
  delete base.WAND_CALL_LOG;
  const e: Bench = { ...b, env, base };
  const debugUntilRunning = async (pod: string, name: string): Promise<number> => {
    const t = now();
    const args = ['debug', pod, '-n', NS, '--target', APP.container, '--profile', 'general', '--image', APP.image, '-c', name, '-i', '--', 'python3', '-c', 'import sys; sys.stdin.readline(); print("up")'];
    const child = spawn(b.realKubectl, args, { env: base, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stdin.end('go\n'); // written once attached: the container answers and exits, and kubectl with it
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (code !== 0 || !out.includes('up')) throw new Error(`kubectl debug floor (${code}): ${out}`);
    return now() - t;
  };
  try {
    await env.waitServing([NS], 8000, 60_000);
    const pod = env.podName(NS);
    const samples: EphemeralSample[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const t = now();
      const debug = await debugUntilRunning(pod, `floor-${i}`);
      const execR = await runKubectl(e, ['exec', pod, '-n', NS, '--', 'python3', '-c', 'pass']);
      if (execR.code !== 0) throw new Error(`exec floor: ${execR.stderr}`);
      const portForward = await portForwardUntilForwarding(e, pod);
      const floor = now() - t;
      await sleep(200);
      const r = startDebug(e);
      try {
        const ready = await r.waitFor('ready', 90_000);
        await stopDebug(r);
        const sample = { debug, exec: execR.ms, portForward, floor, readyMs: ready.at, ratio: ready.at / floor, route: ready.event.route, calls: readCalls(r.tsLog, r.t0), marks: r.events.map((m): [number, unknown] => [Math.round(m.at), m.event.event]) };
        if (sample.route !== 'ephemeral') throw new Error(`route ${String(sample.route)}, not ephemeral: ${r.child.stderr()}`);
        if (i > 0) samples.push(sample);
        log(`  ${i === 0 ? 'warm-up' : `run ${i}/${RUNS}`}: ready ${ms(sample.readyMs)}, floor ${ms(floor)} (debug ${ms(debug)}, exec ${ms(execR.ms)}, port-forward ${ms(portForward)})`);
      } catch (error) {
        if (r.child.child.exitCode === null && r.child.child.pid) process.kill(-r.child.child.pid, 'SIGKILL');
        throw error;
      }
    }
    const figures = {
      floor: median(samples.map((s) => s.floor)),
      debug: median(samples.map((s) => s.debug)),
      exec: median(samples.map((s) => s.exec)),
      portForward: median(samples.map((s) => s.portForward)),
      ready: median(samples.map((s) => s.readyMs)),
      ratio: median(samples.map((s) => s.ratio)),
    };
    const rows = [
      ['kubectl floor of the ephemeral route (kubectl debug -i until the container runs, exec, port-forward)', ms(figures.floor), `${RUNS}`, '', `debug ${ms(figures.debug)}, exec ${ms(figures.exec)}, port-forward ${ms(figures.portForward)}`],
      ['`debug` time to ready through the ephemeral route (Yama ptrace_scope=1)', ms(figures.ready), `${RUNS}`, '≤ 2× floor', `${x(figures.ratio)} ${verdict(figures.ratio <= 2)}`],
    ];
    return { rows, figures, samples };
  } finally {
    await env.stop();
  }
}

// ---------------------------------------------------------------- pods --with-pids at scale

interface PodsSample {
  pods: number;
  ms: number;
  calls: number;
}

async function manyPodsManifests(dir: string): Promise<Map<number, string>> {
  const yaml = await fs.readFile(MANY.manifest, 'utf8');
  const out = new Map<number, string>();
  for (const n of POD_COUNTS) {
    const file = path.join(dir, `many-${n}.yaml`);
    await fs.writeFile(file, yaml.replace(/\bwand-many\b/g, `${MANY.namespace}-${n}`).replace(/^(\s*)replicas:\s*\d+/m, `$1replicas: ${n}`));
    out.set(n, file);
  }
  return out;
}

/** The floor of `pods --with-pids` over n pods: n bare `kubectl exec … python3 -c pass` at once. */
async function execFloor(b: Bench, n: number): Promise<number> {
  const ns = `${MANY.namespace}-${n}`;
  const pods = b.env.cluster.pods(ns).map((p) => p.metadata.name);
  if (pods.length !== n) throw new Error(`exec floor: ${pods.length} pods in ${ns}, not ${n}`);
  const t = now();
  const runs = await Promise.all(pods.map((pod) => runKubectl(b, ['exec', pod, '-n', ns, '--', 'python3', '-c', 'pass'])));
  const failed = runs.find((r) => r.code !== 0);
  if (failed) throw new Error(`exec floor: ${failed.stderr}`);
  return now() - t;
}

async function podsOnce(b: Bench, n: number, counted: boolean): Promise<PodsSample> {
  const ns = `${MANY.namespace}-${n}`;
  const tsLog = path.join(b.dir, `calls-${++b.logs}.log`);
  const args = ['pods', `svc/${MANY.service}`, '-n', ns, '--with-pids', '-o', 'json'];
  const r = counted ? await b.env.wand(args, { timeoutMs: 120_000 }) : await b.env.wand(args, { timeoutMs: 120_000, env: wandOverrides(b, tsLog) });
  if (r.code !== 0) throw new Error(`wand pods -n ${ns} failed: ${r.stderr}`);
  const pods = (JSON.parse(r.stdout) as { pods: Array<{ processes: unknown[] | null; error: unknown }> }).pods;
  if (pods.length !== n || pods.some((p) => !p.processes?.length)) throw new Error(`wand pods -n ${ns}: ${pods.length} pods, some without processes`);
  return { pods: n, ms: r.ms, calls: counted ? r.kubectlCalls.length : readCalls(tsLog, 0).length };
}

// ---------------------------------------------------------------- debug --all-pods

const ALL_PODS = 5;

/**
 * `debug --all-pods` over the 5 pods of one deployment vs `debug` of one pod of it, time to the
 * `ready` event, alternating in the same run (the first pair warms every pod up, not counted).
 */
async function allPodsRow(b: Bench): Promise<{ rows: string[][]; samples: Array<{ allPods: boolean; readyMs: number; targets: number }> }> {
  const ns = `${MANY.namespace}-all-pods`;
  const file = path.join(b.dir, 'all-pods.yaml');
  const yaml = await fs.readFile(MANY.manifest, 'utf8');
  await fs.writeFile(file, yaml.replace(/\bwand-many\b/g, ns).replace(/^(\s*)replicas:\s*\d+/m, `$1replicas: ${ALL_PODS}`));
  await b.env.cluster.apply(file);
  await b.env.cluster.settled();
  await b.env.waitServing([ns], 8000, 120_000);
  const s = { ...MANY, namespace: ns };
  const once = async (allPods: boolean) => {
    const r = startDebug(b, s, allPods ? ['--all-pods'] : []);
    const ready = await r.waitFor('ready', 120_000);
    await stopDebug(r);
    const targets = (ready.event.targets as unknown[]).length;
    if (allPods && targets !== ALL_PODS) throw new Error(`--all-pods attached ${targets} targets, not ${ALL_PODS}`);
    return { allPods, readyMs: ready.at, targets };
  };
  const samples: Array<{ allPods: boolean; readyMs: number; targets: number }> = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const pair = [await once(false), await once(true)];
    if (i > 0) samples.push(...pair);
    log(`  --all-pods run ${i}/${RUNS}${i === 0 ? ' (warm-up)' : ''}: one pod ${ms(pair[0]!.readyMs)}, ${ALL_PODS} pods ${ms(pair[1]!.readyMs)}`);
  }
  const one = median(samples.filter((sm) => !sm.allPods).map((sm) => sm.readyMs));
  const all = median(samples.filter((sm) => sm.allPods).map((sm) => sm.readyMs));
  return {
    rows: [
      [`\`debug --all-pods\` time to ready, ${ALL_PODS} pods of one deployment`, ms(all), `${RUNS}`, '≤ 1.5× one pod', `${x(all / one)} ${verdict(all / one <= 1.5)}`],
      ['`debug` time to ready, one pod of the same deployment', ms(one), `${RUNS}`, '', ''],
    ],
    samples,
  };
}

// ---------------------------------------------------------------- start-up

function timeSync(cmd: string, args: string[]): number {
  const t = now();
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
  return now() - t;
}

function startup(kubectl: string): { wand: number[]; wandHelp: number[]; kubectl: number[]; exe: { path: string; mtime: string; bytes: number } } {
  if (!existsSync(EXE)) {
    log('dist/bin/kubectl-wand is missing: npm run package');
    execFileSync('npm', ['run', '-s', 'package'], { cwd: ROOT, stdio: 'inherit' });
  }
  for (let i = 0; i < 3; i++) {
    // warm the page cache (the executable may have just been written)
    timeSync(EXE, ['--version']);
    timeSync(kubectl, ['version', '--client']);
  }
  const wand: number[] = [];
  const wandHelp: number[] = [];
  const kc: number[] = [];
  for (let i = 0; i < STARTUP_RUNS; i++) {
    wand.push(timeSync(EXE, ['--version']));
    // --version is answered before yargs loads: a parsed command shows the rest of the start
    wandHelp.push(timeSync(EXE, ['pods', '--help']));
    kc.push(timeSync(kubectl, ['version', '--client']));
  }
  const st = statSync(EXE);
  return { wand, wandHelp, kubectl: kc, exe: { path: path.relative(ROOT, EXE), mtime: st.mtime.toISOString(), bytes: st.size } };
}

// ---------------------------------------------------------------- report

function machine(kubectl: string) {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  let kubectlVersion = 'unknown';
  try {
    const v = JSON.parse(execFileSync(kubectl, ['version', '--client', '-o', 'json'], { encoding: 'utf8' })) as { clientVersion: { gitVersion: string } };
    kubectlVersion = v.clientVersion.gitVersion;
  } catch {
    // keep unknown
  }
  return {
    nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
    cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    kernel: os.release(),
    node: process.version,
    kubectl: kubectlVersion,
  };
}

const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)} ms` : x === Infinity ? `> ${REINJECT_TIMEOUT_MS / 1000} s` : 'n/a');
const mb = (kb: number) => (Number.isFinite(kb) ? `${(kb / 1024).toFixed(1)} MB` : 'n/a');
const x = (r: number) => `${r.toFixed(2)}×`;
const verdict = (ok: boolean) => (ok ? 'ok' : '**MISSED**');

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the test cluster needs root');
  if (!existsSync(PLUGIN)) throw new Error(`${PLUGIN} is missing: npm run build && npm run package`);
  const started = new Date();
  const realKubectl = which('kubectl');
  const mach = machine(realKubectl);
  log(`machine: ${JSON.stringify(mach)}`);

  log(`start-up: ${STARTUP_RUNS} runs each`);
  const up = startup(realKubectl);

  log('starting the test cluster');
  const env = await startWandEnv([APP.manifest, PY313.manifest]);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wand-bench-'));
  const stopAll = async () => {
    await env.stop().catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    const bin = path.join(dir, 'bin');
    await fs.mkdir(bin);
    await fs.symlink(PLUGIN, path.join(bin, 'kubectl-wand'));
    log(`kubectl wand runs ${path.relative(ROOT, PLUGIN)}: ${PLUGIN_LABEL}`);
    const tsWrapper = path.join(dir, 'kubectl-ts'); // outside PATH: kubectl would list it as a plugin
    await fs.writeFile(tsWrapper, TS_WRAPPER, { mode: 0o755 });
    const base: NodeJS.ProcessEnv = { ...env.env, PATH: `${bin}:${process.env.PATH ?? ''}`, KUBECTL_PATH: tsWrapper, REAL_KUBECTL: realKubectl };
    delete base.WAND_CALL_LOG;
    const b: Bench = { env, base, realKubectl, dir, logs: 0 };
    if (process.env.BENCH_ONLY === 'ephemeral') {
      const only = await ephemeralRoute(b);
      for (const sample of only.samples) log(`ready ${ms(sample.readyMs)}: ${sample.calls.map((c) => `${Math.round(c.at)} ${c.args.split(' ').slice(0, 2).join(' ')}`).join(', ')}; events ${sample.marks.map(([at, e]) => `${at} ${String(e)}`).join(', ')}`);
      process.stdout.write(`\n${only.rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n${JSON.stringify(only.figures)}\n`);
      return;
    }
    await env.waitServing([NS, PY313.namespace], 8000, 60_000);
    const pod = env.podName(NS);
    const pod313 = env.cluster.pods(PY313.namespace).find((p) => p.metadata.labels?.app === PY313.podLabels.app)?.metadata.name;
    if (!pod313) throw new Error(`no pod of ${PY313.workload}`);
    const boot = bootEpochMs();

    log('warm-up: the kubectl floor and one attach (not counted)');
    await measureFloor(b, pod);
    const warm = await debugIteration(b, pod, boot, null);
    let prev = warm.reinject.workerPid ?? warm.workerPid;
    const iterations: IterationSample[] = [];
    for (let i = 0; i < RUNS; i++) {
      log(`debug run ${i + 1}/${RUNS}`);
      const it = await debugIteration(b, pod, boot, prev);
      iterations.push(it);
      prev = it.reinject.workerPid ?? it.workerPid;
      log(
        `  fresh ${ms(it.fresh.readyMs)} (floor ${ms(it.fresh.floor.total)}), re-attach ${ms(it.reused.readyMs)} (floor ${ms(it.reused.floor.total)}), ` +
          (it.reinject.ok
            ? `reinjected ${ms(it.reinject.fromWorkerStartMs ?? NaN)} after the worker started (${ms(it.reinject.fromWriteMs ?? NaN)} after the write)`
            : `NOT re-injected within ${REINJECT_TIMEOUT_MS / 1000} s (event pid ${it.reinject.newPid}, worker ${it.reinject.workerPid}): ${it.reinject.after.map((a) => a.event).slice(0, 6).join(', ')}`),
      );
    }

    log(`3.13 (ptrace) vs 3.14 (sys.remote_exec): time to ready on a fresh uvicorn --reload worker, ${RUNS} runs each, alternating`);
    const versionSamples: VersionSample[] = [];
    const prevWorker = { [NS]: { pid: prev }, [PY313.namespace]: { pid: -1 } };
    for (let i = 0; i < RUNS + 1; i++) {
      for (const [s, p] of [[PY313, pod313], [APP, pod]] as const) {
        const sample = await readyOnFreshWorker(b, s, p, prevWorker[s.namespace]!, boot);
        if (i > 0) versionSamples.push(sample); // the first of each is a warm-up
        log(`  ${sample.python} (${String(sample.injector)}): ready ${ms(sample.readyMs)}`);
      }
    }

    log(`pods --with-pids over ${POD_COUNTS.join(', ')} pods: starting ${POD_COUNTS.reduce((s, n) => s + n, 0)} pods`);
    const manifests = await manyPodsManifests(dir);
    for (const file of manifests.values()) await env.cluster.apply(file);
    await env.cluster.settled();
    await env.waitServing(POD_COUNTS.map((n) => `${MANY.namespace}-${n}`), 8000, 180_000);
    await sleep(1000);
    const counted = new Map<number, PodsSample>();
    for (const n of POD_COUNTS) counted.set(n, await podsOnce(b, n, true)); // doubles as warm-up
    const podsSamples = new Map<number, PodsSample[]>(POD_COUNTS.map((n) => [n, []]));
    const execFloors = new Map<number, number[]>(EXEC_FLOOR_COUNTS.map((n) => [n, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const n of EXEC_FLOOR_COUNTS) execFloors.get(n)?.push(await execFloor(b, n));
      for (const n of POD_COUNTS) podsSamples.get(n)?.push(await podsOnce(b, n, false));
      log(`  pods run ${i + 1}/${RUNS}: ${POD_COUNTS.map((n) => `${n}: ${ms(podsSamples.get(n)?.at(-1)?.ms ?? NaN)}`).join(', ')}`);
    }

    log(`debug --all-pods over ${ALL_PODS} pods vs one pod, ${RUNS} runs each, alternating`);
    const allPods = await allPodsRow(b);
    const ephemeral = await ephemeralRoute(b);

    // ------------------------------------------------------------ figures
    const fresh = iterations.map((i) => i.fresh);
    const reused = iterations.map((i) => i.reused);
    const pods = (n: number) => median((podsSamples.get(n) ?? []).map((s) => s.ms));
    const podCalls = (n: number) => median((podsSamples.get(n) ?? []).map((s) => s.calls));
    const fig = {
      floorFresh: median(fresh.map((s) => s.floor.total)),
      readyFresh: median(fresh.map((s) => s.readyMs)),
      ratioFresh: median(fresh.map((s) => s.ratio)),
      floorReused: median(reused.map((s) => s.floor.total)),
      readyReused: median(reused.map((s) => s.readyMs)),
      ratioReused: median(reused.map((s) => s.ratio)),
      // a missed re-injection counts as +∞: the median says what a user sees in most reloads
      reinjectFromStart: median(iterations.map((i) => (i.reinject.ok ? (i.reinject.fromWorkerStartMs as number) : Infinity))),
      reinjectFromWrite: median(iterations.map((i) => (i.reinject.ok ? (i.reinject.fromWriteMs as number) : Infinity))),
      reinjectOk: iterations.filter((i) => i.reinject.ok).length,
      reinjectWithin2s: iterations.filter((i) => i.reinject.ok && (i.reinject.fromWorkerStartMs as number) <= 2000).length,
      reload: median(iterations.map((i) => i.reinject.reloadMs ?? NaN)),
      freshNotReused: fresh.filter((s) => s.targets.length === 1 && !s.targets[0].reused).length,
      reattachFresh: iterations.filter((i) => i.reattachSamePid && i.reused.targets.length === 1 && !i.reused.targets[0].reused).length,
      // per run (same worker, same minute): re-attach / first attach
      reattachOverFresh: median(iterations.map((i) => i.reused.readyMs / i.fresh.readyMs)),
      freshOnWorker: iterations.filter((i) => i.freshTargetIsWorker).length,
      pods: Object.fromEntries(POD_COUNTS.map((n) => [n, { ms: pods(n), calls: podCalls(n), countedCalls: counted.get(n)?.calls ?? null }])),
      pods20over1: pods(20) / pods(1),
      execFloor: Object.fromEntries(EXEC_FLOOR_COUNTS.map((n) => [n, median(execFloors.get(n) ?? [])])),
      execFloor20over1: median(execFloors.get(20) ?? []) / median(execFloors.get(1) ?? []),
      startupWand: median(up.wand),
      startupKubectl: median(up.kubectl),
      startupRatio: median(up.wand) / median(up.kubectl),
      startupWandHelp: median(up.wandHelp),
      pluginPeakFreshKb: median(fresh.map((s) => s.pluginPeakRssKb ?? NaN)),
      pluginPeakSessionKb: median(reused.map((s) => s.pluginPeakRssKb ?? NaN)),
      treeRssAtReadyKb: median(fresh.map((s) => s.treeRssKbAtReady)),
      workerRssBeforeKb: median(iterations.map((i) => i.workerRssBefore / 1024)),
      workerRssAfterKb: median(iterations.map((i) => i.workerRssAfter / 1024)),
      workerRssDeltaKb: median(iterations.map((i) => (i.workerRssAfter - i.workerRssBefore) / 1024)),
      ready313: median(versionSamples.filter((v) => v.python === '3.13').map((v) => v.readyMs)),
      ready314: median(versionSamples.filter((v) => v.python === '3.14').map((v) => v.readyMs)),
    };

    // the fresh attach's timeline: when each kubectl call started, and the events
    const steps = new Map<string, number[]>();
    for (const s of fresh) {
      const seen = new Set<string>();
      for (const c of s.calls) {
        const k = callKind(c.args);
        if (seen.has(k)) continue; // the first of each kind
        seen.add(k);
        steps.set(k, [...(steps.get(k) ?? []), c.at]);
      }
    }
    const timeline = [
      ...[...steps.entries()].map(([k, v]) => ({ step: `kubectl ${k} starts`, ms: median(v) })),
      { step: '`chosen` event (agent up, processes listed)', ms: median(fresh.map((s) => s.chosenMs)) },
      { step: '`ready` event (injected, port forwarded)', ms: fig.readyFresh },
    ].sort((a, c) => a.ms - c.ms);
    const floorSteps = {
      getSvc: median(fresh.map((s) => s.floor.getSvc)),
      getPods: median(fresh.map((s) => s.floor.getPods)),
      exec: median(fresh.map((s) => s.floor.exec)),
      portForward: median(fresh.map((s) => s.floor.portForward)),
    };

    const R = RUNS;
    const rows: string[][] = [
      ['kubectl floor before a fresh attach (get svc, get pods, exec, port-forward)', ms(fig.floorFresh), `${R}`, '', ''],
      ['`debug` time to ready, fresh process', ms(fig.readyFresh), `${R}`, '≤ 2× floor', `${x(fig.ratioFresh)} ${verdict(fig.ratioFresh <= 2)}${fig.freshNotReused < R || fig.freshOnWorker < R ? ` (only ${Math.min(fig.freshNotReused, fig.freshOnWorker)}/${R} injected the worker afresh)` : ''}`],
      ['kubectl floor before a re-attach', ms(fig.floorReused), `${R}`, '', ''],
      [
        '`debug` time to ready, re-attach of the same worker (listener closed by the previous session)',
        ms(fig.readyReused),
        `${R}`,
        '≤ 1.3× first attach',
        `${x(fig.reattachOverFresh)} the first attach ${verdict(fig.reattachOverFresh <= 1.3)}, ${x(fig.ratioReused)} floor${fig.reattachFresh < R ? ` (only ${fig.reattachFresh}/${R} listened afresh in the same process)` : ''}`,
      ],
      ['re-injection after a reload, from the new worker\'s start', ms(fig.reinjectFromStart), `${R}`, '≤ 2 s', `${verdict(fig.reinjectFromStart <= 2000)}; ${fig.reinjectWithin2s}/${R} within 2 s, ${R - fig.reinjectOk}/${R} never (in ${REINJECT_TIMEOUT_MS / 1000} s)`],
      ['`debug` time to ready, fresh uvicorn --reload worker, Python 3.13 (ptrace injector)', ms(fig.ready313), `${R}`, '', `${x(fig.ready313 / fig.ready314)} the 3.14 row below (same run, alternating)`],
      ['`debug` time to ready, fresh uvicorn --reload worker, Python 3.14 (`sys.remote_exec`)', ms(fig.ready314), `${R}`, '', ''],
      ['re-injection after a reload, from the file write (upper bound)', ms(fig.reinjectFromWrite), `${R}`, '', `uvicorn took ${ms(fig.reload)} to start the worker`],
      ...EXEC_FLOOR_COUNTS.map((n) => [
        `kubectl floor of \`pods\`: ${n} bare \`kubectl exec … python3 -c pass\` at once`,
        ms(fig.execFloor[n] ?? NaN),
        `${R}`,
        '',
        n === 20 ? `${x(fig.execFloor20over1)} the one-pod floor` : '',
      ]),
      ...POD_COUNTS.map((n) => [
        `\`pods --with-pids\`, ${n} pod${n > 1 ? 's' : ''}`,
        ms(pods(n)),
        `${R}`,
        n === 20 ? '≤ 2× 1 pod' : '',
        `${podCalls(n)} kubectl calls${n === 20 ? `; ${x(fig.pods20over1)} ${verdict(fig.pods20over1 <= 2)} (its floor: ${x(fig.execFloor20over1)})` : ''}`,
      ]),
      ...allPods.rows,
      ...ephemeral.rows,
      ['start-up: `dist/bin/kubectl-wand --version`', ms(fig.startupWand), `${STARTUP_RUNS}`, '≤ 1.5× kubectl', `${x(fig.startupRatio)} ${verdict(fig.startupRatio <= 1.5)}`],
      ['start-up: `kubectl version --client`', ms(fig.startupKubectl), `${STARTUP_RUNS}`, '', ''],
      ['start-up of a parsed command: `dist/bin/kubectl-wand pods --help`', ms(fig.startupWandHelp), `${STARTUP_RUNS}`, '', `${x(fig.startupWandHelp / fig.startupKubectl)} kubectl (\`--version\` is answered before the parser loads)`],
      ['CLI peak RSS (VmHWM of the plugin\'s node process), fresh attach', mb(fig.pluginPeakFreshKb), `${R}`, '', `whole tree at ready: ${mb(fig.treeRssAtReadyKb)}`],
      ['CLI peak RSS, session with a re-injection', mb(fig.pluginPeakSessionKb), `${R}`, '', ''],
      ['target worker RSS before injection', mb(fig.workerRssBeforeKb), `${R}`, '', ''],
      ['target worker RSS after injection', mb(fig.workerRssAfterKb), `${R}`, '', `+${mb(fig.workerRssDeltaKb)}`],
    ];
    const table = [
      '| Figure | Median | Runs | Target | Ratio / result |',
      '|---|---:|---:|---|---|',
      ...rows.map((r) => `| ${r.join(' | ')} |`),
    ].join('\n');
    const timelineTable = [
      '| Fresh attach, ms after spawn (median) | ms |',
      '|---|---:|',
      ...timeline.map((t) => `| ${t.step} | ${Math.round(t.ms)} |`),
      `| (floor steps, back to back: get svc ${Math.round(floorSteps.getSvc)}, get pods ${Math.round(floorSteps.getPods)}, exec ${Math.round(floorSteps.exec)}, port-forward ${Math.round(floorSteps.portForward)}) | ${Math.round(fig.floorFresh)} |`,
    ].join('\n');
    const machineLine = `Machine: ${mach.nproc} CPUs (${mach.cpu}), ${mach.memoryGiB} GiB, Linux ${mach.kernel}, Node ${mach.node}, kubectl ${mach.kubectl} (dispatcher → kubectl.1.32). \`kubectl wand\` ran ${PLUGIN_LABEL}.`;

    process.stdout.write(`\n${table}\n\n${timelineTable}\n\n${machineLine}\n`);

    const results = {
      date: started.toISOString(),
      durationSeconds: round((Date.now() - started.getTime()) / 1000),
      command: 'npm run bench',
      runs: RUNS,
      plugin: path.relative(ROOT, PLUGIN),
      startupRuns: STARTUP_RUNS,
      machine: mach,
      figures: { ...fig, ephemeral: ephemeral.figures },
      timeline: timeline.map((t) => ({ ...t, ms: round(t.ms) })),
      floorSteps,
      table,
      timelineTable,
      samples: {
        startup: up,
        warmup: warm,
        debug: iterations,
        pythonVersions: versionSamples,
        podsCounted: [...counted.values()],
        pods: [...podsSamples.values()].flat(),
        execFloor: Object.fromEntries(execFloors),
        allPods: allPods.samples,
        ephemeral: ephemeral.samples,
      },
    };
    await fs.mkdir(path.dirname(OUT), { recursive: true });
    await fs.writeFile(OUT, `${JSON.stringify(results, null, 2)}\n`);
    log(`wrote ${path.relative(process.cwd(), OUT)} in ${results.durationSeconds} s`);
  } finally {
    await stopAll();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
