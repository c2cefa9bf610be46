/**
 * A throwaway "container" for the support self-tests: a command run as PID 1 of fresh PID, mount,
 * UTS and IPC (and optionally network) namespaces, chrooted into a tmpfs-backed overlay of an image
 * root filesystem. The image root is only ever the overlay's read-only lower layer, and every mount
 * is made inside the private mount namespace, so nothing leaks to the host or other sandboxes.
 * Needs root, util-linux (unshare, nsenter) and overlayfs. Not the emulator: no API, no restarts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, existsSync } from 'node:fs';
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
  /** files inside the image replaced by other files of the image, e.g. python3 → python3.13 */
  replace?: Record<string, string>;
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

export interface Sandbox {
  /** host PID of the sandbox's PID 1 */
  readonly hostPid: number;
  /** the command's stdout and stderr so far */
  output(): string;
  exec(argv: string[], options?: ExecOptions): Promise<ExecResult>;
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
  for (const [target, source] of Object.entries(spec.replace ?? {})) {
    lines.push(`mount --bind ${shQuote(m + source)} ${shQuote(m + target)}`);
  }
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

  const cleanup = async (): Promise<void> => {
    if (unshare.exitCode === null && unshare.signalCode === null) unshare.kill('SIGKILL');
    await exited;
    rmSync(work, { recursive: true, force: true });
  };

  let hostPid: number;
  try {
    hostPid = await waitForChroot(unshare, merged, output);
  } catch (err) {
    await cleanup();
    throw err;
  }

  const servers: net.Server[] = [];
  return {
    hostPid,
    output,
    exec: (argv, options = {}) =>
      runCollect(
        'nsenter',
        [...nsenterArgs(hostPid, options), '/usr/bin/env', '-i', ...envArgs(options.env ?? {}), ...argv],
        options.timeoutMs ?? 30_000,
      ),
    waitForListen: async (port, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!isListening(hostPid, port)) {
        if (unshare.exitCode !== null) throw new Error(`sandbox exited: ${output()}`);
        if (Date.now() > deadline) throw new Error(`nothing listens on ${port} after ${timeoutMs} ms: ${output()}`);
        await sleep(50);
      }
    },
    forward: (port) =>
      new Promise((resolve, reject) => {
        const server = net.createServer((socket) => {
          const remote = dialInNetns(hostPid, port);
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
      // --kill-child: PID 1 of the namespace gets SIGKILL, which kills every process in it
      await cleanup();
    },
  };
}
