/**
 * A throwaway "container" for the support self-tests: a command run as PID 1 of fresh PID, mount,
 * UTS and IPC (and optionally network) namespaces, chrooted into a tmpfs-backed overlay of an image
 * root filesystem. The image root is only ever the overlay's read-only lower layer, and every mount
 * is made inside the private mount namespace, so nothing leaks to the host or other sandboxes.
 * Needs root, util-linux (unshare, nsenter) and overlayfs. Not the emulator: no API, no restarts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';

/** the Debian testing root filesystem that was built on this kind of machine (python3 = 3.14) */
export const PROBE_ROOT = '/var/cache/wand-probe/root';

export function sandboxSupported(root = PROBE_ROOT): boolean {
  return process.platform === 'linux' && process.getuid?.() === 0 && existsSync(join(root, 'usr/bin/python3'));
}

export interface SandboxMount {
  hostPath: string;
  mountPath: string;
  readOnly: boolean;
}

export interface SandboxSpec {
  /** image root filesystem, used read-only */
  root: string;
  argv: string[];
  workingDir?: string;
  env?: Record<string, string>;
  uid?: number;
  gid?: number;
  mounts?: SandboxMount[];
  /** paths deleted from this sandbox's view of the image (an image "without" a package) */
  remove?: string[];
  /** symbolic links (re)made in this sandbox's view of the image, e.g. /usr/bin/python3 → python3.13 */
  links?: Record<string, string>;
  /** 'private': own loopback only; a number: join the network namespace of that host PID */
  network?: 'host' | 'private' | number;
}

export interface ExecResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  uid?: number;
  gid?: number;
  env?: Record<string, string>;
  timeoutMs?: number;
}

export interface SandboxProcess {
  hostPid: number;
  /** PID inside the sandbox's PID namespace */
  pid: number;
  ppid: number;
  argv: string[];
  /** basename of the executable, e.g. python3.14 */
  exe: string;
}

export interface Sandbox {
  /** host PID of the sandbox's PID 1 */
  readonly hostPid: number;
  /** the command's stdout and stderr so far */
  output(): string;
  exec(argv: string[], options?: ExecOptions): Promise<ExecResult>;
  /** every process of the sandbox's PID namespace, read from the host's /proc */
  processes(): SandboxProcess[];
  /** resolves once something listens on TCP `port` in the sandbox's network namespace */
  waitForListen(port: number, timeoutMs?: number): Promise<void>;
  /** a local TCP port that forwards to 127.0.0.1:port inside the sandbox's network namespace */
  forward(port: number): Promise<{ localPort: number; close: () => void }>;
  stop(): Promise<void>;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function envArgs(env: Record<string, string>): string[] {
  return Object.entries({ PATH: DEFAULT_PATH, HOME: '/root', ...env }).map(([k, v]) => `${k}=${v}`);
}

function setupScript(spec: SandboxSpec, work: string): string {
  const m = `${work}/merged`;
  const lines = [
    'set -e',
    'mount --make-rprivate /',
    `mount -t tmpfs tmpfs ${shQuote(work)}`,
    `mkdir ${shQuote(`${work}/upper`)} ${shQuote(`${work}/work`)} ${shQuote(m)}`,
    `mount -t overlay overlay -o ${shQuote(`lowerdir=${spec.root},upperdir=${work}/upper,workdir=${work}/work`)} ${shQuote(m)}`,
    `mount -t proc proc ${shQuote(`${m}/proc`)}`,
    `mount --rbind /dev ${shQuote(`${m}/dev`)}`,
  ];
  for (const path of spec.remove ?? []) lines.push(`rm -rf ${shQuote(m + path)}`);
  for (const [path, target] of Object.entries(spec.links ?? {})) lines.push(`ln -sfn ${shQuote(target)} ${shQuote(m + path)}`);
  for (const mount of spec.mounts ?? []) {
    const target = m + mount.mountPath;
    lines.push(`mkdir -p ${shQuote(target)}`, `mount --bind ${shQuote(mount.hostPath)} ${shQuote(target)}`);
    if (mount.readOnly) lines.push(`mount -o remount,bind,ro ${shQuote(target)}`);
  }
  if (spec.network === 'private') lines.push('ip link set lo up 2>/dev/null || true');
  const user = `${spec.uid ?? 0}:${spec.gid ?? spec.uid ?? 0}`;
  const inner = `cd ${shQuote(spec.workingDir ?? '/')} && exec "$@"`;
  lines.push(
    `exec chroot --userspec=${user} ${shQuote(m)} /usr/bin/env -i ${envArgs(spec.env ?? {}).map(shQuote).join(' ')} ` +
      `/bin/sh -c ${shQuote(inner)} sh ${spec.argv.map(shQuote).join(' ')}`,
  );
  return lines.join('\n');
}

function childPidOf(pid: number): number | null {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return children ? Number(children.split(/\s+/)[0]) : null;
  } catch {
    return null;
  }
}

/** SIGKILL pid unless it is gone or its number now belongs to another process */
function killIfRootedIn(pid: number, root: string): void {
  try {
    if (readlinkSync(`/proc/${pid}/root`) === root) process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** resolves once the command has been exec'd inside the chroot (its root is no longer the host's) */
async function waitForChroot(unshare: ChildProcess, merged: string, output: () => string): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (unshare.exitCode !== null) throw new Error(`sandbox exited during setup: ${output()}`);
    const pid = unshare.pid === undefined ? null : childPidOf(unshare.pid);
    if (pid !== null) {
      try {
        if (readlinkSync(`/proc/${pid}/root`) === merged) return pid;
      } catch {
        // the process is between execs
      }
    }
    await sleep(20);
  }
  throw new Error(`sandbox did not start within 10 s: ${output()}`);
}

/** whether a socket of the network namespace of `pid` listens on `port` (reads /proc, no exec) */
export function isListening(pid: number, port: number): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // fields[1] is local_address "HEXIP:HEXPORT", fields[3] the state; 0A = LISTEN
      if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A') return true;
    }
  }
  return false;
}

function readProcess(hostPid: number): SandboxProcess | null {
  try {
    const status = readFileSync(`/proc/${hostPid}/status`, 'utf8');
    const field = (name: string): string[] => (status.match(new RegExp(`^${name}:\\s*(.*)$`, 'm'))?.[1] ?? '').trim().split(/\s+/);
    const nsPids = field('NSpid');
    const argv = readFileSync(`/proc/${hostPid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
    const exe = readlinkSync(`/proc/${hostPid}/exe`).split('/').pop() ?? '';
    return { hostPid, pid: Number(nsPids[nsPids.length - 1]), ppid: Number(field('PPid')[0]), argv, exe };
  } catch {
    return null; // exited while we looked
  }
}

/** processes sharing the PID namespace of hostPid; ppid is translated into that namespace */
export function processesInPidNamespaceOf(hostPid: number): SandboxProcess[] {
  const ns = readlinkSync(`/proc/${hostPid}/ns/pid`);
  const found: SandboxProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/pid`) !== ns) continue;
    } catch {
      continue;
    }
    const proc = readProcess(Number(entry));
    if (proc) found.push(proc);
  }
  // status PPid is a host PID when read from the host: map it to the namespace PID
  const nsPidOfHost = new Map(found.map((p) => [p.hostPid, p.pid]));
  return found.map((p) => ({ ...p, ppid: nsPidOfHost.get(p.ppid) ?? 0 })).sort((a, b) => a.pid - b.pid);
}

function nsenterArgs(hostPid: number, options: ExecOptions): string[] {
  const args = ['-t', String(hostPid), '-m', '-u', '-i', '-n', '-p', '-r', '-w'];
  if (options.uid !== undefined) args.push('-S', String(options.uid), '-G', String(options.gid ?? options.uid));
  return args;
}

function runCollect(command: string, args: string[], timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, stdout, stderr });
    });
  });
}

/** a Duplex connected to 127.0.0.1:port in the network namespace of hostPid (host node as bridge) */
function dialInNetns(hostPid: number, port: number): Duplex {
  const bridge =
    'const s=require("net").connect(+process.argv[1],"127.0.0.1");' +
    's.on("error",()=>process.exit(1));s.on("close",()=>process.exit(0));' +
    'process.stdin.pipe(s);s.pipe(process.stdout);';
  const child = spawn('nsenter', ['-t', String(hostPid), '-n', process.execPath, '-e', bridge, String(port)], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const duplex = Duplex.from({ readable: child.stdout, writable: child.stdin });
  duplex.on('close', () => child.kill('SIGKILL'));
  child.on('exit', () => duplex.destroy());
  return duplex;
}

export async function startSandbox(spec: SandboxSpec): Promise<Sandbox> {
  const work = mkdtempSync(join(tmpdir(), 'wand-sandbox-'));
  const merged = `${work}/merged`;
  const nsFlags = ['--mount', '--pid', '--uts', '--ipc', '--fork', '--kill-child'];
  if (spec.network === 'private') nsFlags.push('--net');
  const [command, args] =
    typeof spec.network === 'number'
      ? ['nsenter', [`--net=/proc/${spec.network}/ns/net`, 'unshare', ...nsFlags]]
      : ['unshare', nsFlags];
  const unshare = spawn(command, [...args, '/bin/sh', '-c', setupScript(spec, work)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  unshare.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  unshare.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => unshare.on('close', () => resolve()));
  const output = (): string => log;

  let hostPid: number | undefined;
  const cleanup = async (): Promise<void> => {
    // SIGKILL to the namespace's PID 1 kills every process in it. unshare's --kill-child alone is
    // not enough: the parent-death signal is cleared when chroot --userspec changes the uid.
    if (hostPid !== undefined) killIfRootedIn(hostPid, merged);
    if (unshare.exitCode === null && unshare.signalCode === null) unshare.kill('SIGKILL');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 5_000)))]);
    clearTimeout(timer);
    rmSync(work, { recursive: true, force: true });
  };

  try {
    hostPid = await waitForChroot(unshare, merged, output);
  } catch (err) {
    await cleanup();
    throw err;
  }
  const pid1 = hostPid;

  const servers: net.Server[] = [];
  return {
    hostPid: pid1,
    output,
    exec: (argv, options = {}) =>
      runCollect(
        'nsenter',
        [...nsenterArgs(pid1, options), '/usr/bin/env', '-i', ...envArgs(options.env ?? {}), ...argv],
        options.timeoutMs ?? 30_000,
      ),
    processes: () => processesInPidNamespaceOf(pid1),
    waitForListen: async (port, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!isListening(pid1, port)) {
        if (unshare.exitCode !== null) throw new Error(`sandbox exited: ${output()}`);
        if (Date.now() > deadline) throw new Error(`nothing listens on ${port} after ${timeoutMs} ms: ${output()}`);
        await sleep(50);
      }
    },
    forward: (port) =>
      new Promise((resolve, reject) => {
        const server = net.createServer((socket) => {
          const remote = dialInNetns(pid1, port);
          socket.pipe(remote).pipe(socket);
          socket.on('error', () => remote.destroy());
          remote.on('error', () => socket.destroy());
          socket.on('close', () => remote.destroy());
          remote.on('close', () => socket.destroy());
        });
        servers.push(server);
        server.on('error', reject);
        server.listen(0, '127.0.0.1', () => {
          const address = server.address() as net.AddressInfo;
          resolve({ localPort: address.port, close: () => server.close() });
        });
      }),
    stop: async () => {
      for (const server of servers) server.close();
      await cleanup();
    },
  };
}
