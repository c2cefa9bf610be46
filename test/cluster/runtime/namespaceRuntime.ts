/**
 * PodRuntime on plain Linux namespaces (util-linux setpriv/unshare/nsenter + overlayfs).
 *
 * Process layout of a pod (host view):
 *   holder:        setpriv --pdeathsig KILL unshare --net --uts --ipc --mount --pid --fork → sh (reaper)
 *   forwarder:     setpriv --pdeathsig KILL nsenter -t <holder> -n → node forwarder.js
 *   per container: setpriv --pdeathsig KILL nsenter -t <holder> -n -u -i -m [-p]
 *                    → unshare --mount [--pid --fork] --root=<overlay> …  → the container's command
 * Every mount lives in the sandbox's or a container's private mount namespace, never in the host's,
 * so it disappears with the pod's processes. The parent-death signals make the whole pod die with
 * this Node process even if it crashes before shutdown().
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChildWatcher, cpuNanoCores, processTree, readProcessTable, runsBeyond, signalAll, type ProcessTable } from './procfs';
import {
  assertOverlaySafe,
  commandStartError,
  ensureUpperDir,
  preparePodDev,
  renderFstab,
  resolveInRoot,
  writePodIdentity,
} from './rootfs';
import { dialThroughForwarder, FORWARDER_SOURCE } from './forwarder';
import { AttachableStdio } from './attach';
import { pidNamespaceFor } from './ephemeral';
import { enterContainerHelper } from './native';
import { enterContainerArgs, runAsNonRootError, type PtraceScope } from './security';
import type {
  AttachRequest,
  ContainerSpec,
  ContainerState,
  ContainerStatusUpdate,
  ExecOutcome,
  ExecRequest,
  ExecStreams,
  PodRuntime,
  PodSpecForRuntime,
} from './types';

export interface NamespaceRuntimeOptions {
  /** directory for per-pod state (overlay layers, logs, forwarder socket); created if missing */
  stateDir: string;
  /** the node's kernel.yama.ptrace_scope (default 0), applied to every container process and exec */
  ptraceScope?: PtraceScope;
}

const HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const QUICK_EXIT_MS = 10_000;
const FIRST_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 5_000;
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface ContainerRun {
  spec: ContainerSpec;
  restartCount: number;
  quickExits: number;
  hostPid: number | null;
  launcher: ChildProcess | null;
  exited: Promise<ExitInfo> | null;
  starting: Promise<void> | null;
  backoff: NodeJS.Timeout | null;
  /** piped stdio of an attachable (ephemeral) container while it runs */
  stdio: AttachableStdio | null;
}

interface ExecRun {
  container: string;
  proc: ChildProcess;
  closed: Promise<unknown>;
}

interface Pod {
  spec: PodSpecForRuntime;
  dir: string;
  onStatus: (update: ContainerStatusUpdate) => void;
  /** the holder of the pod's namespaces and the port forwarder, once started */
  sandbox: ChildProcess[];
  sandboxExited: Array<Promise<ExitInfo>>;
  /** a process inside the pod's namespaces (PID 1 of the pod's PID namespace when shared) */
  nsPid: number;
  containers: Map<string, ContainerRun>;
  execs: Set<ExecRun>;
  chores: Set<Promise<unknown>>;
  stopping: Promise<void> | null;
}

interface HostTools {
  setpriv: string;
  nsenter: string;
  unshare: string;
  mount: string;
  umount: string;
  ip: string;
  hostname: string;
}

function findHostTool(name: string): string {
  for (const dir of HOST_PATH.split(':')) {
    const candidate = path.join(dir, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} not found on this host (util-linux is required)`);
}

function exitOf(proc: ChildProcess): Promise<ExitInfo> {
  return new Promise((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
    proc.once('error', () => resolve({ code: 127, signal: null }));
  });
}

function exitCodeOf({ code, signal }: ExitInfo): number {
  return code ?? 128 + (signal ? osConstants.signals[signal] : 0);
}

function hasExited(proc: ChildProcess): boolean {
  return proc.exitCode !== null || proc.signalCode !== null;
}

function assertSafeName(kind: string, name: string): void {
  if (!SAFE_NAME.test(name)) throw new Error(`invalid ${kind} for the pod runtime: ${JSON.stringify(name)}`);
}

/** Kubernetes truncates the pod name to a 63-character host name; never an option for hostname(1) */
function hostnameOf(podName: string): string {
  return podName.slice(0, 63).replace(/^[-.]+|[-.]+$/g, '') || 'pod';
}

function runQuietly(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: { PATH: HOST_PATH } }, (err, _stdout, stderr) =>
      err ? reject(new Error(`${path.basename(file)} ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(),
    );
  });
}

class NamespaceRuntime implements PodRuntime {
  private readonly pods = new Map<string, Pod>();
  private readonly children = new ChildWatcher();
  private readonly tools: HostTools;
  /** native/enter-container: the last step of every container start and exec (security.ts) */
  private helper = '';

  constructor(private readonly stateDir: string, private readonly ptraceScope: PtraceScope = 0) {
    if (process.getuid?.() !== 0) throw new Error('the namespace pod runtime must run as root');
    assertOverlaySafe(stateDir);
    fs.mkdirSync(stateDir, { recursive: true });
    this.tools = {
      setpriv: findHostTool('setpriv'),
      nsenter: findHostTool('nsenter'),
      unshare: findHostTool('unshare'),
      mount: findHostTool('mount'),
      umount: findHostTool('umount'),
      ip: findHostTool('ip'),
      hostname: findHostTool('hostname'),
    };
  }

  async startPod(spec: PodSpecForRuntime, onStatus: (update: ContainerStatusUpdate) => void): Promise<void> {
    assertSafeName('pod uid', spec.uid);
    for (const c of spec.containers) {
      assertSafeName('container name', c.name);
      assertOverlaySafe(c.imageRoot);
    }
    if (this.pods.has(spec.uid)) throw new Error(`pod ${spec.uid} is already running`);
    this.helper ||= await enterContainerHelper();
    const pod: Pod = {
      spec,
      dir: path.join(this.stateDir, spec.uid),
      onStatus,
      sandbox: [],
      sandboxExited: [],
      nsPid: 0,
      containers: new Map(spec.containers.map((c) => [c.name, newContainerRun(c)])),
      execs: new Set(),
      chores: new Set(),
      stopping: null,
    };
    this.pods.set(spec.uid, pod);
    try {
      await this.startSandbox(pod);
      await Promise.all([this.startForwarder(pod), ...[...pod.containers.values()].map((run) => this.startContainer(pod, run))]);
    } catch (err) {
      await this.stopPod(spec.uid, 0);
      throw err;
    }
  }

  stopPod(podUid: string, graceSeconds: number): Promise<void> {
    const pod = this.pods.get(podUid);
    if (!pod) return Promise.resolve();
    pod.stopping ??= this.teardown(pod, graceSeconds);
    return pod.stopping;
  }

  async startEphemeralContainer(podUid: string, spec: ContainerSpec): Promise<void> {
    assertSafeName('container name', spec.name);
    assertOverlaySafe(spec.imageRoot);
    const pod = this.pods.get(podUid);
    if (!pod || pod.stopping) throw new Error(`pod ${podUid} is not running`);
    if (pod.containers.has(spec.name)) throw new Error(`container ${spec.name} already exists in pod ${pod.spec.name}`);
    const run = newContainerRun({ ...spec, ephemeral: spec.ephemeral ?? { stdin: false, stdinOnce: false } });
    pod.containers.set(spec.name, run);
    await this.startContainer(pod, run);
  }

  async attach(req: AttachRequest, streams: ExecStreams, signal: AbortSignal): Promise<ExecOutcome> {
    const run = this.pods.get(req.podUid)?.containers.get(req.container);
    if (!run?.hostPid) return { error: `container not found ("${req.container}")` };
    if (!run.stdio) return { error: `attach is only supported for ephemeral containers in this test cluster ("${req.container}")` };
    return run.stdio.attach(streams, signal);
  }

  async exec(req: ExecRequest, streams: ExecStreams, signal: AbortSignal): Promise<ExecOutcome> {
    const pod = this.pods.get(req.podUid);
    const run = pod?.containers.get(req.container);
    if (!pod || pod.stopping) return { error: `pod ${req.podUid} not found` };
    if (!run) return { error: `container ${req.container} is not valid for pod ${pod.spec.name}` };
    if (!run.hostPid) return { error: `container not found ("${req.container}")` };
    if (req.command.length === 0) return { error: 'no command specified' };
    const { spec } = run;
    const workingDir = spec.workingDir || '/';
    const startError = commandStartError(`/proc/${run.hostPid}/root`, req.command[0], spec.env, workingDir);
    if (startError) return { error: startError };

    const proc = spawn(
      this.tools.setpriv,
      // the helper joins the mount namespace itself: inside it, the host's files (the helper) are out of reach
      ['--pdeathsig', 'KILL', this.tools.nsenter, '-t', String(run.hostPid), '-p', '-n', '-i', '-u', '--',
        ...enterContainerArgs(this.helper, spec, { root: { joinProcess: run.hostPid }, workingDir, ptraceScope: this.ptraceScope, yamaView: false }),
        ...req.command],
      { stdio: [streams.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: spec.env },
    );
    const closed = new Promise<ExecOutcome>((resolve) => {
      proc.once('close', (code, sig) => resolve({ exitCode: exitCodeOf({ code, signal: sig }) }));
      proc.once('error', (err) => resolve({ error: `failed to exec in container: ${err.message}` }));
    });
    const execRun: ExecRun = { container: req.container, proc, closed };
    pod.execs.add(execRun);
    if (streams.stdin && proc.stdin) {
      proc.stdin.on('error', () => {}); // EPIPE when the command exits without reading stdin
      streams.stdin.pipe(proc.stdin);
    }
    proc.stdout!.pipe(streams.stdout, { end: false });
    proc.stderr!.pipe(streams.stderr ?? streams.stdout, { end: false });
    // When the client goes away, containerd closes the command's stdio and nothing else: stdin
    // gets EOF (StdinOnce: CloseIO), output EPIPE once its copy fails (exec_io.go attachOutput);
    // the command runs on until it exits by itself or the pod ends — "the CRI plugin will still
    // have a goroutine waiting for the exec process to exit" (containerd
    // internal/cri/server/container_execsync.go, execInContainer). No kill here either.
    const abort = (): void => {
      proc.stdin?.end();
      proc.stdout?.destroy();
      proc.stderr?.destroy();
    };
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
    try {
      return await closed;
    } finally {
      signal.removeEventListener('abort', abort);
      if (streams.stdin && proc.stdin) streams.stdin.unpipe(proc.stdin);
      pod.execs.delete(execRun);
    }
  }

  dialPort(podUid: string, port: number): Promise<Duplex> {
    const pod = this.pods.get(podUid);
    if (!Number.isInteger(port) || port < 1 || port > 65535) return Promise.reject(new Error(`invalid port ${port}`));
    if (!pod?.nsPid || pod.stopping) return Promise.reject(new Error(`pod ${podUid} is not running`));
    return dialThroughForwarder(this.socketPath(pod), port);
  }

  logPath(podUid: string, container: string): string {
    return path.join(this.stateDir, podUid, 'logs', `${container}.log`);
  }

  async usage(podUid: string): Promise<Record<string, { cpuNanoCores: number; memoryBytes: number }>> {
    const pod = this.pods.get(podUid);
    if (!pod) return {};
    const before = readProcessTable();
    const t0 = process.hrtime.bigint();
    await sleep(100);
    const after = readProcessTable();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const result: Record<string, { cpuNanoCores: number; memoryBytes: number }> = {};
    for (const [name, run] of pod.containers) {
      const pids = this.containerProcesses(pod, name, run, after);
      result[name] = {
        cpuNanoCores: cpuNanoCores(before, after, pids, seconds),
        memoryBytes: pids.reduce((sum, pid) => sum + (after.get(pid)?.rssBytes ?? 0), 0),
      };
    }
    return result;
  }

  // SIGKILL goes to a container's launcher (unshare/nsenter) before its command, never to the command
  // alone: util-linux 2.38 unshare cannot re-raise SIGKILL, exits 1 and writes "sigprocmask unblock
  // failed" into the log; killed first, it takes its child along (--kill-child) and reports SIGKILL.
  // Launcher-first also kills a shared-PID-namespace container's children (the command is not PID 1).
  async killContainer(podUid: string, container: string): Promise<void> {
    const run = this.pods.get(podUid)?.containers.get(container);
    if (!run?.hostPid || !run.launcher?.pid) throw new Error(`container ${container} of pod ${podUid} is not running`);
    signalAll(processTree(readProcessTable(), [run.launcher.pid]), 'SIGKILL');
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.pods.keys()].map((uid) => this.stopPod(uid, 0)));
  }

  private socketPath(pod: Pod): string {
    return path.join(pod.dir, 'forwarder.sock');
  }

  /** the holder of the pod's namespaces, with loopback up, the pod's hostname and /dev mounted */
  private async startSandbox(pod: Pod): Promise<void> {
    fs.rmSync(pod.dir, { recursive: true, force: true }); // left over by a runtime that crashed
    fs.mkdirSync(path.join(pod.dir, 'logs'), { recursive: true });
    const fstab = path.join(pod.dir, 'pod.fstab');
    fs.writeFileSync(fstab, renderFstab(preparePodDev(path.join(pod.dir, 'dev'))));
    // the holder is PID 1 of its own PID namespace, as pause is: its death takes its sleep along, and
    // when the containers share that namespace it reaps orphans as a shell waiting on a child does
    const holder = this.spawnSandboxProcess(pod,
      [this.tools.unshare, '--net', '--uts', '--ipc', '--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child',
        '--', '/bin/sh', '-c', 'while :; do sleep infinity & wait; done']);
    const nsPid = await this.childOf(holder);
    if (!nsPid) throw new Error('pod sandbox exited');
    pod.nsPid = nsPid;
    await Promise.all([
      this.runInPod(pod, ['-n'], [this.tools.ip, 'link', 'set', 'lo', 'up']),
      this.runInPod(pod, ['-u'], [this.tools.hostname, hostnameOf(pod.spec.name)]),
      this.runInPod(pod, ['-m'], [this.tools.mount, '--all', '--fstab', fstab]),
    ]);
  }

  /** the port forwarder, a host process that entered only the pod's network namespace */
  private async startForwarder(pod: Pod): Promise<void> {
    const script = path.join(pod.dir, 'forwarder.js');
    fs.writeFileSync(script, FORWARDER_SOURCE);
    const forwarder = this.spawnSandboxProcess(pod,
      [this.tools.nsenter, '-t', String(pod.nsPid), '-n', '--', process.execPath, script, this.socketPath(pod)]);
    let stderr = '';
    forwarder.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const ready = await new Promise<boolean>((resolve) => {
      let stdout = '';
      forwarder.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()).includes('ready\n') && resolve(true));
      forwarder.once('exit', () => resolve(false));
    });
    if (!ready) throw new Error(`pod port forwarder failed to start: ${stderr.trim()}`);
  }

  private runInPod(pod: Pod, namespaces: string[], argv: string[]): Promise<void> {
    return runQuietly(this.tools.nsenter, ['-t', String(pod.nsPid), ...namespaces, '--', ...argv]);
  }

  /** the process a launcher forks, once it runs its own program: in its namespaces and root, /proc mounted */
  private childOf(launcher: ChildProcess): Promise<number | null> {
    const launchers = [this.tools.setpriv, this.tools.nsenter, this.tools.unshare, this.helper];
    return this.children.childOf(launcher.pid ?? -1, () => hasExited(launcher), (pid) => runsBeyond(pid, launchers));
  }

  private spawnSandboxProcess(pod: Pod, argv: string[]): ChildProcess {
    const proc = spawn(this.tools.setpriv, ['--pdeathsig', 'KILL', ...argv], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: HOST_PATH } });
    pod.sandbox.push(proc);
    pod.sandboxExited.push(exitOf(proc));
    return proc;
  }

  private startContainer(pod: Pod, run: ContainerRun): Promise<void> {
    run.starting = this.launchContainer(pod, run).finally(() => (run.starting = null));
    return run.starting;
  }

  private async launchContainer(pod: Pod, run: ContainerRun): Promise<void> {
    const { spec } = run;
    const refusal = runAsNonRootError(spec.securityContext ?? {}, pod.spec, spec.name);
    if (refusal) return this.report(pod, run, { state: 'waiting', reason: 'CreateContainerConfigError', message: refusal });
    const attemptDir = path.join(pod.dir, 'containers', spec.name, String(run.restartCount));
    const root = path.join(attemptDir, 'root');
    const fstab = this.prepareRootfs(pod, spec, attemptDir);
    await this.runInPod(pod, ['-m'], [this.tools.mount, '--all', '--fstab', fstab]);
    if (pod.stopping) return;

    const target = spec.ephemeral?.targetContainer;
    const pidns = pidNamespaceFor(spec, pod.spec.shareProcessNamespace, target ? pod.containers.get(target)?.hostPid ?? null : null);
    const logPath = this.logPath(pod.spec.uid, spec.name);
    const log = spec.ephemeral ? null : fs.openSync(logPath, 'a');
    const proc = spawn(
      this.tools.setpriv,
      ['--pdeathsig', 'KILL', this.tools.nsenter, '-t', String(pod.nsPid), '-n', '-u', '-i', '-m', ...pidns.nsenter,
        '--', this.tools.unshare, '--mount', '--propagation', 'private', ...pidns.unshare, `--mount-proc=${root}/proc`, '--',
        ...enterContainerArgs(this.helper, spec, { root: { moveRoot: root }, workingDir: spec.workingDir || '/', ptraceScope: this.ptraceScope, yamaView: true }),
        ...spec.argv],
      { stdio: log === null ? ['pipe', 'pipe', 'pipe'] : ['ignore', log, log], env: spec.env },
    );
    if (log !== null) fs.closeSync(log);
    else run.stdio = new AttachableStdio(proc, logPath, spec.ephemeral?.stdinOnce ?? false);
    const startedAt = new Date();
    run.launcher = proc;
    run.exited = exitOf(proc);
    run.hostPid = await this.childOf(proc);
    this.report(pod, run, { state: 'running', startedAt });
    void run.exited.then((info) => this.onContainerExit(pod, run, info, startedAt, attemptDir));
  }

  /** fresh overlay layers for one run of a container; returns the fstab that mounts its root */
  private prepareRootfs(pod: Pod, spec: ContainerSpec, attemptDir: string): string {
    const [upper, work, root] = ['upper', 'work', 'root'].map((d) => path.join(attemptDir, d));
    for (const dir of [upper, work, root]) fs.mkdirSync(dir, { recursive: true });
    writePodIdentity(spec.imageRoot, upper, hostnameOf(pod.spec.name));
    const inImage = (p: string): string => resolveInRoot(spec.imageRoot, p);
    for (const dir of ['/proc', '/dev', spec.workingDir || '/']) ensureUpperDir(spec.imageRoot, upper, inImage(dir));
    const volumes = spec.mounts.map((m): [string, string, string, string] => {
      const target = inImage(m.mountPath);
      if (fs.statSync(m.hostPath).isDirectory()) ensureUpperDir(spec.imageRoot, upper, target);
      else {
        ensureUpperDir(spec.imageRoot, upper, path.posix.dirname(target));
        fs.writeFileSync(path.join(upper, target), '');
      }
      return [m.hostPath, path.join(root, target), 'none', m.readOnly ? 'bind,ro' : 'bind'];
    });
    const fstab = path.join(attemptDir, 'fstab');
    fs.writeFileSync(
      fstab,
      renderFstab([
        ['overlay', root, 'overlay', `lowerdir=${spec.imageRoot},upperdir=${upper},workdir=${work}`],
        [path.join(pod.dir, 'dev'), path.join(root, inImage('/dev')), 'none', 'rbind'],
        ...volumes,
      ]),
    );
    return fstab;
  }

  private onContainerExit(pod: Pod, run: ContainerRun, info: ExitInfo, startedAt: Date, attemptDir: string): void {
    run.launcher = null;
    run.hostPid = null;
    run.stdio = null;
    const finishedAt = new Date();
    const exitCode = exitCodeOf(info);
    this.report(pod, run, { state: 'terminated', exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt });
    this.track(pod, this.removeAttempt(pod, attemptDir));
    if (pod.stopping || run.spec.ephemeral) return; // the kubelet never restarts ephemeral containers
    this.scheduleRestart(pod, run, finishedAt.getTime() - startedAt.getTime() < QUICK_EXIT_MS);
  }

  private scheduleRestart(pod: Pod, run: ContainerRun, quickExit: boolean): void {
    run.quickExits = quickExit ? run.quickExits + 1 : 0;
    const delay = Math.min(FIRST_BACKOFF_MS * 2 ** Math.max(0, run.quickExits - 1), MAX_BACKOFF_MS);
    if (run.quickExits >= 2) this.report(pod, run, { state: 'waiting', reason: 'CrashLoopBackOff' });
    run.backoff = setTimeout(() => {
      run.backoff = null;
      run.restartCount += 1;
      this.startContainer(pod, run).catch(() => {
        if (pod.stopping) return;
        this.report(pod, run, { state: 'waiting', reason: 'CreateContainerError' });
        this.scheduleRestart(pod, run, true);
      });
    }, delay);
  }

  private async removeAttempt(pod: Pod, attemptDir: string): Promise<void> {
    if (!pod.stopping) {
      const root = path.join(attemptDir, 'root');
      await this.runInPod(pod, ['-m'], [this.tools.umount, '--recursive', root]).catch(() => {});
    }
    await fs.promises.rm(attemptDir, { recursive: true, force: true });
  }

  private report(pod: Pod, run: ContainerRun, state: ContainerState): void {
    pod.onStatus({ container: run.spec.name, state, restartCount: run.restartCount, hostPid: run.hostPid });
  }

  private track(pod: Pod, chore: Promise<unknown>): void {
    const settled = chore.catch(() => {}).finally(() => pod.chores.delete(settled));
    pod.chores.add(settled);
  }

  /** the container's process tree plus the processes exec'd into it (not their host-side nsenter) */
  private containerProcesses(pod: Pod, name: string, run: ContainerRun, table: ProcessTable): number[] {
    const launchers = [...pod.execs].filter((e) => e.container === name).map((e) => e.proc.pid ?? -1);
    return processTree(table, [...(run.hostPid ? [run.hostPid] : []), ...launchers]).filter((pid) => !launchers.includes(pid));
  }

  private async teardown(pod: Pod, graceSeconds: number): Promise<void> {
    const runs = [...pod.containers.values()];
    for (const run of runs) if (run.backoff) clearTimeout(run.backoff);
    await Promise.allSettled(runs.map((run) => run.starting));
    const exits = runs.map((run) => run.exited);
    signalAll(runs.flatMap((run) => (run.hostPid ? [run.hostPid] : [])), 'SIGTERM');
    await Promise.race([Promise.all(exits), sleep(graceSeconds * 1000, undefined, { ref: false })]);
    // what is left: container trees, exec trees and the sandbox (PID 1 of a shared PID namespace)
    const roots = [
      ...runs.flatMap((run) => (run.launcher?.pid ? [run.launcher.pid] : [])),
      ...[...pod.execs].map((e) => e.proc.pid ?? -1),
      ...pod.sandbox.map((p) => p.pid ?? -1),
    ];
    signalAll(processTree(readProcessTable(), roots), 'SIGKILL');
    await Promise.all([...exits, ...[...pod.execs].map((e) => e.closed), ...pod.sandboxExited]);
    await Promise.all(pod.chores);
    await fs.promises.rm(pod.dir, { recursive: true, force: true });
    this.pods.delete(pod.spec.uid);
  }
}

function newContainerRun(spec: ContainerSpec): ContainerRun {
  return { spec, restartCount: 0, quickExits: 0, hostPid: null, launcher: null, exited: null, starting: null, backoff: null, stdio: null };
}

export function createNamespaceRuntime(options: NamespaceRuntimeOptions): PodRuntime {
  return new NamespaceRuntime(options.stateDir, options.ptraceScope);
}
