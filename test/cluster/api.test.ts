/**
 * The emulated API server against the real kubectl: an in-memory store, a stub runtime and stub
 * upgrade handlers (the protocols are tested in their own folder).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Duplex } from 'node:stream';
import { parse } from 'yaml';
import type { ExecOptions, ExecRunner, PortDialer, ServeExec, ServePortForward, StreamSession } from './protocol/api';
import type { ContainerStatus, Pod } from './api/objects';
import { startApiServer, type ApiHooks, type ApiRuntime, type ApiServer } from './api/server';
import { ObjectStore } from './api/store';

const HOUR = 3_600_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

function running(name: string): ContainerStatus {
  return { name, image: `${name}:1`, imageID: '', ready: true, started: true, restartCount: 0, state: { running: { startedAt: ago(HOUR) } } };
}

function pod(namespace: string, name: string, labels: Record<string, string>, status: Partial<Pod['status']>, extra: Partial<Pod['metadata']> = {}): Pod {
  const containers = (status.containerStatuses ?? [running('app')]).map((c) => ({ name: c.name, image: c.image }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels, uid: `uid-${name}`, resourceVersion: '', creationTimestamp: ago(3 * HOUR), ...extra },
    spec: { containers, nodeName: 'wand-node' },
    status: { phase: 'Running', podIP: '10.244.0.5', containerStatuses: [running('app')], ...status },
  };
}

function seed(store: ObjectStore): void {
  const meta = (name: string, namespace?: string) => ({ name, namespace, creationTimestamp: ago(3 * HOUR) });
  for (const ns of ['default', 'shop']) store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: meta(ns), status: { phase: 'Active' } });
  store.create(pod('shop', 'api-1', { app: 'api', tier: 'web' }, {}));
  store.create(pod('shop', 'api-2', { app: 'api' }, {}, { deletionTimestamp: ago(1000) }));
  store.create(pod('shop', 'multi', { app: 'multi' }, { containerStatuses: [running('app'), running('sidecar')] }));
  store.create(pod('shop', 'worker-1', { app: 'worker' }, {
    containerStatuses: [{
      ...running('app'), ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } },
      lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(30 * 60_000) } },
    }],
  }));
  store.create(pod('shop', 'job-1', { app: 'job' }, {
    phase: 'Succeeded',
    containerStatuses: [{ ...running('app'), ready: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
  }));
  store.create(pod('default', 'hello', { app: 'hello' }, {}));
  store.create(pod('default', 'doomed', { app: 'doomed' }, {}));
  store.create({ apiVersion: 'v1', kind: 'Service', metadata: meta('api', 'shop'),
    spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', selector: { app: 'api' }, ports: [{ port: 80, targetPort: 8000, protocol: 'TCP' }] } });
  store.create({ apiVersion: 'v1', kind: 'Service', metadata: meta('legacy', 'shop'), spec: { type: 'ExternalName', externalName: 'api.example.com' } });
  store.create({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('api', 'shop'),
    spec: { replicas: 2, selector: { matchLabels: { app: 'api' } }, template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'app', image: 'api:1' }] } } },
    status: { replicas: 2, readyReplicas: 1, updatedReplicas: 2, availableReplicas: 1 } });
  store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('settings', 'shop'), data: { 'a.conf': 'x', 'b.conf': 'y' } });
}

/** What the stub upgrade handlers saw; they answer 101 and hold the socket open. */
interface Upgraded {
  path: string;
  options?: ExecOptions;
  run?: ExecRunner;
  dial?: PortDialer;
}

function stubUpgrades(seen: Upgraded[]): { exec: ServeExec; portForward: ServePortForward } {
  const accept = (socket: Duplex): StreamSession => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    const done = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    return { done, destroy: () => socket.destroy() };
  };
  return {
    exec: (req, socket, _head, options, run) =>
      req.headers.upgrade === 'websocket' ? (seen.push({ path: req.url ?? '', options, run }), accept(socket)) : null,
    portForward: (req, socket, _head, dial) => (seen.push({ path: req.url ?? '', dial }), accept(socket)),
  };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Columns of kubectl's table output (cells are separated by at least 3 spaces). */
function table(stdout: string): string[][] {
  return stdout.trimEnd().split('\n').map((line) => line.trim().split(/\s{2,}/));
}

describe('API server with the real kubectl', () => {
  let dir: string;
  let store: ObjectStore;
  let server: ApiServer;
  let kubeconfig: { users: Array<{ user: { token: string } }> };
  let ca: string;
  const seen: Upgraded[] = [];
  const hooks: ApiHooks = {};
  const runtimeCalls: unknown[] = [];
  const deletions: Array<{ name: string; grace: number; terminating: boolean }> = [];

  const runtime: ApiRuntime = {
    exec: async (req) => (runtimeCalls.push(req), { exitCode: 0 }),
    attach: async (req) => (runtimeCalls.push(req), { exitCode: 0 }),
    dialPort: async (uid, port) => (runtimeCalls.push({ uid, port }), new PassThrough()),
    logPath: (uid, container) => join(dir, `${uid}-${container}.log`),
    usage: async () => ({ app: { cpuNanoCores: 5_000_000, memoryBytes: 20 * 1024 * 1024 }, sidecar: { cpuNanoCores: 1_000_000, memoryBytes: 4 * 1024 * 1024 } }),
  };

  function kubectl(args: string[], options: { context?: string; cacheDir?: string; kubeconfigPath?: string } = {}): Promise<Run> {
    const base = ['--kubeconfig', options.kubeconfigPath ?? server.kubeconfigPath, '--cache-dir', options.cacheDir ?? join(dir, 'cache')];
    if (options.context) base.push('--context', options.context);
    return new Promise((resolve) => {
      execFile('kubectl', [...base, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      });
    });
  }

  /** A raw upgrade request for a stream subresource, as a client library would send it. */
  function upgrade(path: string, token = kubeconfig.users[0].user.token, protocol = 'websocket'): Promise<{ status?: number; body?: string; socket?: Duplex; error?: Error }> {
    return new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port: new URL(server.url).port, path, ca, method: 'GET',
        headers: { Authorization: `Bearer ${token}`, Connection: 'Upgrade', Upgrade: protocol } });
      req.on('upgrade', (_res, socket) => resolve({ status: 101, socket }));
      req.on('response', (res: IncomingMessage) => {
        let body = '';
        res.on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode, body }));
      });
      req.on('error', (error) => resolve({ error }));
      req.end();
    });
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wand-api-'));
    store = new ObjectStore();
    seed(store);
    store.onDeletePod = (p, grace) => {
      deletions.push({ name: p.metadata.name, grace, terminating: !!p.metadata.deletionTimestamp });
      setTimeout(() => store.remove('Pod', p.metadata.namespace, p.metadata.name), 300);
    };
    await writeFile(join(dir, 'uid-api-1-app.log'), 'starting\nlistening on :8000\nGET / 200\n');
    await writeFile(join(dir, 'uid-multi-sidecar.log'), 'sidecar up\n');
    server = await startApiServer({ stateDir: dir, store, runtime, upgrades: stubUpgrades(seen), hooks });
    kubeconfig = parse(await readFile(server.kubeconfigPath, 'utf8'));
    ca = await readFile(join(dir, 'tls', 'ca.crt'), 'utf8');
  });

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('get pods: READY, STATUS (Terminating, CrashLoopBackOff, Completed), RESTARTS, AGE', async () => {
    const run = await kubectl(['get', 'pods', '-n', 'shop']);
    expect(run.stderr).toBe('');
    expect(table(run.stdout)).toEqual([
      ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
      ['api-1', '1/1', 'Running', '0', '3h'],
      ['api-2', '1/1', 'Terminating', '0', '3h'],
      ['job-1', '0/1', 'Completed', '0', '3h'],
      ['multi', '2/2', 'Running', '0', '3h'],
      ['worker-1', '0/1', 'CrashLoopBackOff', '4 (30m ago)', '3h'],
    ]);
  });

  test('label and field selectors', async () => {
    const names = async (...args: string[]) => table((await kubectl(['get', 'pods', '-n', 'shop', '-o', 'name', ...args])).stdout).flat();
    expect(await names('-l', 'app=api')).toEqual(['pod/api-1', 'pod/api-2']);
    expect(await names('-l', 'app in (api,worker),tier!=web')).toEqual(['pod/api-2', 'pod/worker-1']);
    expect(await names('-l', 'tier')).toEqual(['pod/api-1']);
    expect(await names('-l', '!tier,app notin (api,job)')).toEqual(['pod/multi', 'pod/worker-1']);
    expect(await names('--field-selector', 'status.phase=Succeeded')).toEqual(['pod/job-1']);
    expect(await names('--field-selector', 'metadata.name=multi')).toEqual(['pod/multi']);
  });

  test('get pods -o json, -o wide and -A', async () => {
    const json = JSON.parse((await kubectl(['get', 'pods', '-n', 'shop', '-l', 'app=multi', '-o', 'json'])).stdout);
    expect(json.items).toHaveLength(1);
    expect(json.items[0]).toMatchObject({ kind: 'Pod', metadata: { name: 'multi', uid: 'uid-multi', labels: { app: 'multi' } } });
    expect(Number(json.items[0].metadata.resourceVersion)).toBeGreaterThan(0);

    const wide = table((await kubectl(['get', 'pod', 'api-1', '-n', 'shop', '-o', 'wide'])).stdout);
    expect(wide).toEqual([
      ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
      ['api-1', '1/1', 'Running', '0', '3h', '10.244.0.5', 'wand-node', '<none>', '<none>'],
    ]);

    const all = table((await kubectl(['get', 'pods', '-A'])).stdout);
    expect(all[0]).toEqual(['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(all.map((row) => `${row[0]}/${row[1]}`)).toEqual(expect.arrayContaining(['default/hello', 'shop/api-1']));
  });

  test('get svc, deploy, cm, ns', async () => {
    expect(table((await kubectl(['get', 'svc', '-n', 'shop', '-o', 'wide'])).stdout)).toEqual([
      ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR'],
      ['api', 'ClusterIP', '10.96.0.10', '<none>', '80/TCP', '3h', 'app=api'],
      ['legacy', 'ExternalName', '<none>', 'api.example.com', '<none>', '3h', '<none>'],
    ]);
    expect(table((await kubectl(['get', 'deploy', '-n', 'shop'])).stdout)).toEqual([
      ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
      ['api', '1/2', '2', '1', '3h'],
    ]);
    expect(table((await kubectl(['get', 'cm', '-n', 'shop'])).stdout)).toEqual([['NAME', 'DATA', 'AGE'], ['settings', '2', '3h']]);
    expect(table((await kubectl(['get', 'ns'])).stdout)).toEqual([['NAME', 'STATUS', 'AGE'], ['default', 'Active', '3h'], ['shop', 'Active', '3h']]);
    const svc = JSON.parse((await kubectl(['get', 'svc', 'api', '-n', 'shop', '-o', 'json'])).stdout);
    expect(svc.spec.selector).toEqual({ app: 'api' });
  });

  test('errors: missing object, unknown resource type, no token', async () => {
    expect(await kubectl(['get', 'pod', 'nope', '-n', 'shop'])).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): pods "nope" not found\n' });
    expect(await kubectl(['get', 'deploy', 'nope', '-n', 'shop'])).toMatchObject({ code: 1, stderr: 'Error from server (NotFound): deployments.apps "nope" not found\n' });
    expect(await kubectl(['get', 'foo'])).toEqual({ code: 1, stdout: '', stderr: 'error: the server doesn\'t have a resource type "foo"\n' });
    expect(await upgrade('/api/v1/namespaces/shop/pods/api-1/exec?command=ls', 'wrong')).toMatchObject({ status: 401 });
  });

  test('delete pod goes through the hook; kubectl waits until the pod is gone', async () => {
    const run = await kubectl(['delete', 'pod', 'doomed']);
    expect(run).toEqual({ code: 0, stdout: 'pod "doomed" deleted\n', stderr: '' });
    expect(deletions).toEqual([{ name: 'doomed', grace: 30, terminating: true }]);
    expect(store.get('Pod', 'default', 'doomed')).toBeUndefined();
    expect((await kubectl(['delete', 'pod', 'doomed'])).stderr).toBe('Error from server (NotFound): pods "doomed" not found\n');
  });

  test('auth can-i per user', async () => {
    const canI = async (context: string | undefined, subresource: string) =>
      kubectl(['auth', 'can-i', 'create', 'pods', `--subresource=${subresource}`, '-n', 'shop'], { context });
    expect(await canI(undefined, 'exec')).toEqual({ code: 0, stdout: 'yes\n', stderr: '' });
    expect(await canI('wand-test-noexec', 'exec')).toMatchObject({ code: 1, stdout: 'no\n' });
    expect(await canI('wand-test-noexec', 'portforward')).toMatchObject({ code: 1, stdout: 'no\n' });
    expect((await kubectl(['auth', 'can-i', 'list', 'pods'], { context: 'wand-test-noexec' })).stdout).toBe('yes\n');
  });

  test('top pod', async () => {
    expect(table((await kubectl(['top', 'pod', '-n', 'shop'])).stdout)).toEqual([
      ['NAME', 'CPU(cores)', 'MEMORY(bytes)'],
      ['api-1', '5m', '20Mi'],
      ['multi', '6m', '24Mi'],
    ]);
    expect(table((await kubectl(['top', 'pod', 'multi', '-n', 'shop', '--containers'])).stdout)).toEqual([
      ['POD', 'NAME', 'CPU(cores)', 'MEMORY(bytes)'],
      ['multi', 'app', '5m', '20Mi'],
      ['multi', 'sidecar', '1m', '4Mi'],
    ]);
  });

  test('logs', async () => {
    expect((await kubectl(['logs', 'api-1', '-n', 'shop'])).stdout).toBe('starting\nlistening on :8000\nGET / 200\n');
    expect((await kubectl(['logs', 'api-1', '-n', 'shop', '--tail=1'])).stdout).toBe('GET / 200\n');
    expect((await kubectl(['logs', 'multi', '-n', 'shop', '-c', 'sidecar'])).stdout).toBe('sidecar up\n');
    expect(await kubectl(['logs', 'worker-1', '-n', 'shop'])).toMatchObject({ code: 0, stdout: '' });
  });

  test('exec: kubectl sees the API server refuse a bad container or a user without rights', async () => {
    expect(await kubectl(['exec', 'api-1', '-n', 'shop', '-c', 'nope', '--', 'ls'])).toMatchObject({
      code: 1, stderr: expect.stringContaining('container nope is not valid for pod api-1'),
    });
    expect(await kubectl(['exec', 'api-1', '-n', 'shop', '--', 'ls'], { context: 'wand-test-noexec' })).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('pods "api-1" is forbidden: User "noexec" cannot create resource "pods/exec" in API group "" in the namespace "shop"'),
    });
    expect(seen).toHaveLength(0);
  });

  test('exec and port-forward upgrades reach the handlers and the runtime; sessions can be dropped', async () => {
    const exec = await upgrade('/api/v1/namespaces/shop/pods/multi/exec?command=ls&command=-l&container=sidecar&stdin=true&stdout=true&tty=false');
    expect(exec.status).toBe(101);
    expect(seen[0].options).toEqual({ stdin: true, stdout: true, stderr: false, tty: false });
    await seen[0].run!({ stdin: null, stdout: new PassThrough(), stderr: null }, new AbortController().signal);
    expect(runtimeCalls).toEqual([{ podUid: 'uid-multi', container: 'sidecar', command: ['ls', '-l'], tty: false }]);

    const forward = await upgrade('/api/v1/namespaces/shop/pods/multi/portforward');
    expect(forward.status).toBe(101);
    await seen[1].dial!(5679);
    expect(runtimeCalls[1]).toEqual({ uid: 'uid-multi', port: 5679 });

    expect(server.sessions.list('multi')).toHaveLength(2);
    const closed = Promise.all([exec.socket!, forward.socket!].map((s) => new Promise((r) => s.on('close', r))));
    expect(server.sessions.dropAll('multi')).toBe(2);
    await closed;
    expect(server.sessions.list('multi')).toHaveLength(0);
  });

  test('exec refusals before the upgrade', async () => {
    const completed = await upgrade('/api/v1/namespaces/shop/pods/job-1/exec?command=ls');
    expect(completed.status).toBe(400);
    expect(JSON.parse(completed.body!).message).toBe('cannot exec into a container in a completed pod; current phase is Succeeded');
    const several = await upgrade('/api/v1/namespaces/shop/pods/multi/exec?command=ls');
    expect(JSON.parse(several.body!).message).toBe('a container name must be specified for pod multi, choose one of: [app sidecar]');
    expect((await upgrade('/api/v1/namespaces/shop/pods/nope/portforward')).status).toBe(404);
    const unspoken = await upgrade('/api/v1/namespaces/shop/pods/api-1/exec?command=ls', undefined, 'h2c');
    expect(unspoken).toMatchObject({ status: 400, body: expect.stringContaining('unable to negotiate protocol') });
  });

  test('hooks drop or delay a connection', async () => {
    const before = seen.length;
    hooks.beforeExec = (podName, command) => (podName === 'api-1' && command[0] === 'drop' ? 'drop' : 300);
    hooks.beforePortForward = () => 'drop';
    try {
      expect((await upgrade('/api/v1/namespaces/shop/pods/api-1/exec?command=drop')).error).toBeDefined();
      expect((await upgrade('/api/v1/namespaces/shop/pods/api-1/portforward')).error).toBeDefined();
      expect(seen.length).toBe(before);
      const started = Date.now();
      const delayed = await upgrade('/api/v1/namespaces/shop/pods/api-1/exec?command=ls');
      expect(delayed.status).toBe(101);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      delayed.socket!.destroy();
    } finally {
      delete hooks.beforeExec;
      delete hooks.beforePortForward;
    }
  });
});

describe('an old client', () => {
  let dir: string;
  let server: ApiServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wand-api-old-'));
    const store = new ObjectStore();
    store.create(pod('default', 'hello', { app: 'hello' }, {}));
    const unused = () => Promise.reject(new Error('unused'));
    const runtime: ApiRuntime = { exec: unused, attach: unused, dialPort: unused, logPath: () => '/nonexistent', usage: unused };
    server = await startApiServer({ stateDir: dir, store, runtime, upgrades: stubUpgrades([]), serverMinor: 27 });
  });

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('kubectl 1.27 lists pods', async () => {
    const run = (args: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile('kubectl', ['--kubeconfig', server.kubeconfigPath, '--cache-dir', join(dir, 'cache'), ...args], (e, out, err) => (e ? reject(new Error(err)) : resolve(out))));
    const version = JSON.parse(await run(['version', '-o', 'json']));
    expect(version.clientVersion.minor).toBe('27');
    expect(version.serverVersion.minor).toBe('27');
    expect(table(await run(['get', 'pods']))).toEqual([['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'], ['hello', '1/1', 'Running', '0', '3h']]);
  });
});
