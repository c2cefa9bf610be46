/**
 * The exec and port-forward wire protocols against the REAL kubectl (the dispatcher picks
 * kubectl 1.<minor> from /version): a stub API server in this file answers discovery and the pod,
 * and hands upgrades to serveExec / servePortForward. Exec runs local `sh`; port-forward dials
 * local TCP servers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, PassThrough } from 'node:stream';
import type { ExecOutcome, ExecStreams } from './runtime/types';
import type { ExecOptions, StreamSession } from './protocol/api';
import { serveExec } from './protocol/exec';
import { servePortForward } from './protocol/portforward';
import { SpdySession } from './protocol/spdy';

jest.setTimeout(10_000);

const KUBECTL = '/usr/bin/kubectl';
const RUN_FAILURE = 'runtime could not start "no-such-tool": executable file not found in $PATH';

interface Served {
  path: string;
  upgrade: string;
  session: StreamSession;
}

interface StubCluster {
  /** resolves with the runner's outcome once an exec's abort signal fired */
  aborted: Promise<ExecOutcome>;
  kubeconfig: string;
  cacheDir: string;
  home: string;
  served: Served[];
  close(): Promise<void>;
}

function json(res: http.ServerResponse, body: unknown, status = 200): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

const RESOURCES = {
  kind: 'APIResourceList',
  groupVersion: 'v1',
  resources: [
    { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'], shortNames: ['po'] },
    { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] },
    { name: 'pods/portforward', singularName: '', namespaced: true, kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
    { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['get', 'list'], shortNames: ['ns'] },
  ],
};

const POD = {
  kind: 'Pod',
  apiVersion: 'v1',
  metadata: { name: 'p1', namespace: 'default', uid: '0b7c1a2e-0000-4000-8000-000000000001', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { containers: [{ name: 'app', image: 'stub' }] },
  status: {
    phase: 'Running',
    containerStatuses: [{ name: 'app', ready: true, restartCount: 0, image: 'stub', imageID: '', state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }],
  },
};

function answer(minor: number, req: http.IncomingMessage, res: http.ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://stub').pathname;
  if (path === '/version') return json(res, { major: '1', minor: String(minor), gitVersion: `v1.${minor}.0` });
  if (path === '/api') return json(res, { kind: 'APIVersions', versions: ['v1'] });
  if (path === '/apis') return json(res, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
  if (path === '/api/v1') return json(res, RESOURCES);
  if (path === '/api/v1/namespaces/default/pods/p1') return json(res, POD);
  if (path === '/api/v1/namespaces/default') {
    return json(res, { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'default' }, status: { phase: 'Active' } });
  }
  json(res, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' }, 404);
}

const BURST = Buffer.alloc(64 * 1024, 'x');

/**
 * `sh -c` as the container. Two stand-ins: no-such-tool is a command the runtime cannot start,
 * and burst queues 32 MB on stdout and returns at once, before any of it can have left.
 */
async function runLocally(command: string[], streams: ExecStreams, signal: AbortSignal): Promise<ExecOutcome> {
  if (command[0] === 'no-such-tool') return { error: RUN_FAILURE };
  if (command[0] === 'burst') {
    for (let i = 0; i < 512; i++) streams.stdout.write(BURST);
    return { exitCode: 3 };
  }
  const child = spawn(command[0], command.slice(1), { stdio: 'pipe' });
  signal.addEventListener('abort', () => child.kill('SIGKILL'));
  child.stdin.on('error', () => undefined);
  if (streams.stdin) streams.stdin.pipe(child.stdin);
  else child.stdin.end();
  child.stdout.pipe(streams.stdout);
  child.stderr.pipe(streams.stderr ?? streams.stdout);
  // 'close', not 'exit': both output pipes have then been drained into the streams
  const code = await new Promise<number>((resolve) => child.on('close', (exitCode) => resolve(exitCode ?? 137)));
  return { exitCode: code };
}

/** remote port → local TCP port; anything else is refused the way containerd words it */
function dialerFor(ports: Record<number, number>): (port: number) => Promise<Duplex> {
  return (port) =>
    new Promise((resolve, reject) => {
      const refused = (): void =>
        reject(new Error(`failed to connect to localhost:${port} inside namespace "stub": connection refused`));
      if (!ports[port]) return refused();
      const socket = net.connect(ports[port], '127.0.0.1');
      socket.once('connect', () => resolve(socket));
      socket.once('error', refused);
    });
}

function execOptions(query: URLSearchParams): ExecOptions {
  const flag = (name: string): boolean => query.get(name) === 'true';
  return { stdin: flag('stdin'), stdout: flag('stdout'), stderr: flag('stderr'), tty: flag('tty') };
}

async function startStubCluster(minor: number, ports: Record<number, number> = {}): Promise<StubCluster> {
  const served: Served[] = [];
  let reportAbort: (outcome: ExecOutcome) => void = () => undefined;
  const aborted = new Promise<ExecOutcome>((resolve) => (reportAbort = resolve));
  const server = http.createServer((req, res) => answer(minor, req, res));
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    const upgrade = String(req.headers.upgrade);
    let session: StreamSession | null = null;
    if (url.pathname === '/api/v1/namespaces/default/pods/p1/exec') {
      const command = url.searchParams.getAll('command');
      const run = async (streams: ExecStreams, signal: AbortSignal): Promise<ExecOutcome> => {
        const outcome = await runLocally(command, streams, signal);
        if (signal.aborted) reportAbort(outcome);
        return outcome;
      };
      session = serveExec(req, socket, head, execOptions(url.searchParams), run);
    } else if (url.pathname === '/api/v1/namespaces/default/pods/p1/portforward') {
      session = servePortForward(req, socket, head, dialerFor(ports));
    }
    if (session) served.push({ path: url.pathname, upgrade, session });
    else socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const dir = mkdtempSync(join(tmpdir(), 'protocol-test-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: stub, cluster: {server: "http://127.0.0.1:${port}"}}]`,
      'users: [{name: stub, user: {}}]',
      'contexts: [{name: stub, context: {cluster: stub, user: stub, namespace: default}}]',
      'current-context: stub',
    ].join('\n'),
  );
  return {
    aborted,
    kubeconfig,
    cacheDir: join(dir, 'cache'),
    home: dir,
    served,
    async close() {
      for (const each of served) each.session.destroy();
      await Promise.all(served.map((each) => each.session.done));
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Transport {
  name: string;
  minor: number;
  env: Record<string, string>;
  /** the Upgrade header kubectl must use for exec and for port-forward */
  upgrades: { exec: string; portforward: string };
  /** over SPDY, client-go reads a cut connection as EOF on every stream: kubectl exec exits 0 */
  execDropFails: boolean;
}

const WEBSOCKETS_OFF = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false', KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' };
const TRANSPORTS: Transport[] = [
  { name: 'kubectl 1.32, WebSocket', minor: 32, env: {}, upgrades: { exec: 'websocket', portforward: 'websocket' }, execDropFails: true },
  { name: 'kubectl 1.32, SPDY forced', minor: 32, env: WEBSOCKETS_OFF, upgrades: { exec: 'SPDY/3.1', portforward: 'SPDY/3.1' }, execDropFails: false },
  { name: 'kubectl 1.29, SPDY', minor: 29, env: {}, upgrades: { exec: 'SPDY/3.1', portforward: 'SPDY/3.1' }, execDropFails: false },
];

function kubectlArgs(cluster: StubCluster, args: string[]): string[] {
  return ['--kubeconfig', cluster.kubeconfig, '--cache-dir', cluster.cacheDir, ...args];
}

function kubectlEnv(cluster: StubCluster, transport: Transport): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: cluster.home, ...transport.env };
}

interface Finished {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

function collect(child: ChildProcess): Promise<Finished> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  return new Promise((resolve) =>
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString() })),
  );
}

function kubectl(cluster: StubCluster, transport: Transport, args: string[], input?: Buffer): Promise<Finished> {
  const child = spawn(KUBECTL, kubectlArgs(cluster, args), { env: kubectlEnv(cluster, transport) });
  const result = collect(child);
  child.stdin.on('error', () => undefined);
  child.stdin.end(input);
  return result;
}

function upgradesOf(cluster: StubCluster, kind: 'exec' | 'portforward'): string[] {
  return cluster.served.filter((each) => each.path.endsWith(`/${kind}`)).map((each) => each.upgrade);
}

async function listen(handler: (socket: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function portOf(server: net.Server): number {
  return (server.address() as AddressInfo).port;
}

/** kubectl port-forward running in the background, with the local port for each remote port */
interface Forwarder {
  local: Record<number, number>;
  exited: Promise<Finished>;
  stop(): Promise<Finished>;
}

async function portForward(cluster: StubCluster, transport: Transport, remotePorts: number[]): Promise<Forwarder> {
  const args = ['port-forward', '--address', '127.0.0.1', 'pod/p1', ...remotePorts.map((port) => `:${port}`)];
  const child = spawn(KUBECTL, kubectlArgs(cluster, args), { env: kubectlEnv(cluster, transport) });
  const exited = collect(child);
  const local: Record<number, number> = {};
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      for (const match of seen.matchAll(/Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/g)) local[Number(match[2])] = Number(match[1]);
      if (remotePorts.every((port) => local[port])) resolve();
    });
    void exited.then((result) => reject(new Error(`kubectl port-forward exited ${result.code}: ${result.stderr}`)));
  });
  return {
    local,
    exited,
    stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** sends `payload`, half-closes, and resolves with everything received until the peer's end */
function exchange(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(received)));
    socket.on('error', reject);
    socket.end(payload);
  });
}

describe.each(TRANSPORTS)('exec over $name', (transport) => {
  let cluster: StubCluster;
  beforeEach(async () => {
    cluster = await startStubCluster(transport.minor);
  });
  afterEach(() => cluster.close());

  it('round-trips 1 MB of stdin through the command to stdout', async () => {
    const input = randomBytes(1 << 20);
    const result = await kubectl(cluster, transport, ['exec', '-i', 'p1', '--', 'sh', '-c', 'cat'], input);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBe(input.length);
    expect(result.stdout.equals(input)).toBe(true);
    expect(upgradesOf(cluster, 'exec')).toEqual([transport.upgrades.exec]);
    await cluster.served[0].session.done; // the connection was closed, not left hanging
  });

  it('keeps stderr apart from stdout (no stdin requested)', async () => {
    const result = await kubectl(cluster, transport, ['exec', 'p1', '--', 'sh', '-c', 'echo out; echo err >&2']);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe('out\n');
    expect(result.stderr).toBe('err\n');
  });

  it('turns a non-zero exit into kubectl exit code and message, after all output', async () => {
    const result = await kubectl(cluster, transport, ['exec', '-i', 'p1', '--', 'sh', '-c', 'head -c 4000000 /dev/zero; exit 7']);
    expect(result.code).toBe(7);
    expect(result.stdout.length).toBe(4_000_000);
    expect(result.stderr).toContain('command terminated with exit code 7');
  });

  it('sends the status only after output the runner left queued', async () => {
    const result = await kubectl(cluster, transport, ['exec', 'p1', '--', 'burst']);
    expect(result.code).toBe(3);
    expect(result.stdout.length).toBe(512 * BURST.length);
  });

  it('reports a command the runtime could not start with the runtime message', async () => {
    const result = await kubectl(cluster, transport, ['exec', 'p1', '--', 'no-such-tool']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(RUN_FAILURE);
  });

  it('aborts the runner and ends kubectl when the session is destroyed', async () => {
    const child = spawn(KUBECTL, kubectlArgs(cluster, ['exec', '-i', 'p1', '--', 'sh', '-c', 'echo started; exec sleep 30']), {
      env: kubectlEnv(cluster, transport),
    });
    const result = collect(child);
    await new Promise((resolve) => child.stdout.once('data', resolve));
    cluster.served[0].session.destroy();
    expect(await cluster.aborted).toEqual({ exitCode: 137 }); // the runner saw the abort and killed sleep
    const finished = await result;
    expect(finished.code !== 0).toBe(transport.execDropFails);
    expect(finished.stdout.toString()).toBe('started\n');
  });
});

describe.each(TRANSPORTS)('port-forward over $name', (transport) => {
  const ECHO = 7001;
  const CLOSER = 7002;
  const REFUSED = 7003;
  let echo: net.Server;
  let closer: net.Server;
  let cluster: StubCluster;
  let forwarder: Forwarder | null = null;

  beforeAll(async () => {
    echo = await listen((socket) => socket.pipe(socket));
    closer = await listen((socket) => socket.end('bye\n'));
  });
  afterAll(async () => {
    await new Promise((resolve) => echo.close(resolve));
    await new Promise((resolve) => closer.close(resolve));
  });
  beforeEach(async () => {
    cluster = await startStubCluster(transport.minor, { [ECHO]: portOf(echo), [CLOSER]: portOf(closer) });
  });
  afterEach(async () => {
    await forwarder?.stop();
    forwarder = null;
    await cluster.close();
  });

  it('carries 5 MB each way', async () => {
    forwarder = await portForward(cluster, transport, [ECHO]);
    const payload = randomBytes(5 << 20);
    const echoed = await exchange(forwarder.local[ECHO], payload);
    expect(echoed.length).toBe(payload.length);
    expect(echoed.equals(payload)).toBe(true);
    expect(upgradesOf(cluster, 'portforward')).toEqual([transport.upgrades.portforward]);
  });

  it('serves 4 concurrent connections independently', async () => {
    forwarder = await portForward(cluster, transport, [ECHO]);
    const payloads = [0, 1, 2, 3].map(() => randomBytes(300_000));
    const echoed = await Promise.all(payloads.map((payload) => exchange(forwarder!.local[ECHO], payload)));
    echoed.forEach((each, index) => expect(each.equals(payloads[index])).toBe(true));
  });

  it('passes on the target closing its connection, and keeps forwarding', async () => {
    forwarder = await portForward(cluster, transport, [ECHO, CLOSER]);
    const goodbye = await exchange(forwarder.local[CLOSER], Buffer.alloc(0));
    expect(goodbye.toString()).toBe('bye\n');
    const after = await exchange(forwarder.local[ECHO], Buffer.from('still here'));
    expect(after.toString()).toBe('still here');
  });

  it('writes a failed dial on the error stream, which kubectl reports', async () => {
    forwarder = await portForward(cluster, transport, [REFUSED]);
    await exchange(forwarder.local[REFUSED], Buffer.from('hello')).catch(() => Buffer.alloc(0));
    const result = await forwarder.exited;
    // klog quotes the message, escaping its inner quotes
    expect(result.stderr.replace(/\\"/g, '"')).toContain(
      `error forwarding port ${REFUSED} to pod p1, uid : failed to connect to localhost:${REFUSED} inside namespace "stub": connection refused`,
    );
    expect(result.code).not.toBe(0);
  });

  it('makes kubectl report the lost connection when the session is destroyed', async () => {
    forwarder = await portForward(cluster, transport, [ECHO]);
    expect((await exchange(forwarder.local[ECHO], Buffer.from('ping'))).toString()).toBe('ping');
    cluster.served[0].session.destroy();
    await cluster.served[0].session.done;
    const result = await forwarder.exited;
    expect(result.stderr).toContain('lost connection to pod');
    expect(result.code).not.toBe(0);
  });
});

describe('SpdySession framing', () => {
  function connect(): { toServer: PassThrough; fromServer: PassThrough; closed: Promise<void> } {
    const toServer = new PassThrough();
    const fromServer = new PassThrough();
    const spdy = new SpdySession(Duplex.from({ readable: toServer, writable: fromServer }));
    return { toServer, fromServer, closed: new Promise((resolve) => spdy.once('close', resolve)) };
  }

  it('echoes a PING unchanged, even when it arrives split', async () => {
    const { toServer, fromServer } = connect();
    const ping = Buffer.from('800300060000000400000007', 'hex');
    const echoed = new Promise<Buffer>((resolve) => fromServer.once('data', resolve));
    toServer.write(ping.subarray(0, 5));
    toServer.write(ping.subarray(5));
    expect((await echoed).equals(ping)).toBe(true);
  });

  it('ends the session on a header block that does not inflate', async () => {
    const { toServer, closed } = connect();
    const garbage = Buffer.from('0123456789abcdef', 'hex');
    const header = Buffer.from('80030001000000', 'hex');
    toServer.write(Buffer.concat([header, Buffer.of(10 + garbage.length), Buffer.from('00000001000000000000', 'hex'), garbage]));
    await closed;
  });
});
