/**
 * The test cluster as a whole, driven the way people use it: `npm run cluster -- up/down` and the
 * real kubectl — get with selectors and tables, exec, port-forward to a Service (both transports)
 * reaching a real uvicorn --reload app, two pods on one port, and nothing left after `down`.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, promises as fs, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { imageRoot } from './images/images';

const ROOT = path.resolve(__dirname, '../..');
const canRun = process.getuid?.() === 0 && existsSync(path.join(imageRoot('wand-test/python:3.14'), 'usr/bin/python3'));
if (!canRun && process.env.CI === 'true') throw new Error('cluster tests need root and the test images (npm run images)');
const run = canRun ? describe : describe.skip;
jest.setTimeout(120_000);

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeout = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** Processes whose root or cwd lies under dir: what a pod of that cluster would leave. */
function processesUnder(dir: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        // a container's root is its mount namespace's root ("/" from here): its mounts name the dir
        return [readlinkSync(`/proc/${p}/root`), readlinkSync(`/proc/${p}/cwd`)].some((l) => l.startsWith(dir)) ||
          readFileSync(`/proc/${p}/mountinfo`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Ten replicas of the scale test's tiny app plus the uvicorn --reload FastAPI app. */
async function writeManifests(dir: string): Promise<string> {
  const many = await fs.readFile(path.join(ROOT, 'test/manifests/many-pods.yaml'), 'utf8');
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'many.yaml'), many.replace(/replicas: \d+/, 'replicas: 9'));
  await fs.copyFile(path.join(ROOT, 'test/manifests/fastapi-uvicorn-reload.yaml'), path.join(dir, 'uvicorn.yaml'));
  return dir;
}

async function httpThroughForward(env: NodeJS.ProcessEnv, target: string, namespace: string): Promise<string> {
  const child = spawn('kubectl', ['port-forward', '--address', '127.0.0.1', '-n', namespace, target, ':8000'], { env });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', (code) => reject(new Error(`port-forward exited ${code}`)));
    });
    const res = await fetch(`http://127.0.0.1:${port}/work?x=21`);
    return await res.text();
  } finally {
    child.kill();
  }
}

/** An app that is still starting refuses the connection, and kubectl then drops the forward. */
async function httpWhenServing(env: NodeJS.ProcessEnv, target: string, namespace: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await httpThroughForward(env, target, namespace);
    } catch (error) {
      if (attempt >= 30) throw error;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

run('test cluster: up, kubectl, down', () => {
  let base: string;
  let state: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), 'wand-cl-'));
    state = path.join(base, 'state');
    const manifests = await writeManifests(path.join(base, 'manifests'));
    const up = await sh('npm', ['run', '-s', 'cluster', '--', 'up', '--manifests', manifests, '--state', state]);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    // up's duration is measured by hand/bench (docs/status.md), not bounded here: loaded machines vary.
    env = { ...process.env, KUBECONFIG: path.join(state, 'kubeconfig'), HOME: base };
  });

  afterAll(async () => {
    if (state && existsSync(path.join(state, 'daemon.pid'))) await sh('npm', ['run', '-s', 'cluster', '--', 'down', '--state', state]);
    await fs.rm(base, { recursive: true, force: true });
  });

  test('every pod is Running when up returns', async () => {
    const r = await sh('kubectl', ['get', 'pods', '-A', '-o', 'json'], env);
    const pods = (JSON.parse(r.stdout) as { items: Array<{ status: { phase: string } }> }).items;
    expect(pods).toHaveLength(10);
    expect(pods.every((p) => p.status.phase === 'Running')).toBe(true);
  });

  test('get with a selector, as a table', async () => {
    const r = await sh('kubectl', ['get', 'pods', '-n', 'wand-many', '-l', 'app=tiny'], env);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(r.stdout.trim().split('\n')).toHaveLength(10);
    const svc = await sh('kubectl', ['get', 'svc', '-n', 'wand-uvicorn'], env);
    expect(svc.stdout).toMatch(/^api\s+ClusterIP\s+10\.96\.0\.\d+\s+<none>\s+8000\/TCP/m);
  });

  test('exec with stdin, stdout, stderr and exit codes', async () => {
    const child = spawn('kubectl', ['exec', '-i', '-n', 'wand-uvicorn', 'deploy/api', '--', 'python3', '-c',
      'import sys; d=sys.stdin.read(); print(d.upper()); print("to-stderr", file=sys.stderr); sys.exit(7)'], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end('hello');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(7);
    expect(stdout).toBe('HELLO\n');
    expect(stderr).toMatch(/to-stderr/);
    expect(stderr).toMatch(/command terminated with exit code 7/);
  });

  test.each([
    ['WebSocket', {}],
    ['SPDY', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }],
  ])('port-forward svc/ to a real uvicorn --reload app over %s', async (_name, extra) => {
    const body = await httpWhenServing({ ...env, ...extra }, 'svc/api', 'wand-uvicorn');
    expect(JSON.parse(body)).toEqual({ value: 42 });
  });

  test('two pods listen on the same port, each on its own', async () => {
    const pods = JSON.parse((await sh('kubectl', ['get', 'pods', '-n', 'wand-many', '-o', 'json'], env)).stdout) as {
      items: Array<{ metadata: { name: string } }>;
    };
    const [a, b] = pods.items.map((p) => p.metadata.name);
    const bodies = await Promise.all([a, b].map((p) => httpWhenServing(env, `pod/${p}`, 'wand-many')));
    expect(bodies.map((body) => JSON.parse(body))).toEqual([{ value: 42 }, { value: 42 }]);
    const hostnames = await Promise.all([a, b].map((p) => sh('kubectl', ['exec', '-n', 'wand-many', p, '--', 'python3', '-c', 'import socket;print(socket.gethostname())'], env)));
    expect(hostnames.map((h) => h.stdout.trim())).toEqual([a, b]);
  });

  test('down stops every process and leaves no mount behind', async () => {
    expect(processesUnder(state).length).toBeGreaterThan(0);
    const down = await sh('npm', ['run', '-s', 'cluster', '--', 'down', '--state', state]);
    expect(down.code).toBe(0);
    expect(processesUnder(state)).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(state);
    expect(existsSync(path.join(state, 'daemon.pid'))).toBe(false);
  });
});
