import { chmodSync, readFileSync, writeFileSync } from 'fs';
import {
  ContextNotFound,
  KubectlFailed,
  KubectlNotFound,
  NotFound,
  Timeout,
} from '../../../src/kube/errors';
import { callTimeout, createKubectl, globalFlags, parseKubectlDuration } from '../../../src/kube/kubectl';
import { FakeKubectl, fakeKubectl, json } from './fake-kubectl';

const configView = (namespace?: string) =>
  json({
    kind: 'Config',
    contexts: [{ name: 'ctx1', context: { cluster: 'c1', user: 'u1', ...(namespace ? { namespace } : {}) } }],
    'current-context': 'ctx1',
  });

let fake: FakeKubectl | undefined;
afterEach(() => fake?.cleanup());

describe('globalFlags', () => {
  it('spells every field as kubectl does, in a fixed order', () => {
    expect(
      globalFlags({
        kubeconfig: '/k',
        context: 'c',
        cluster: 'cl',
        user: 'u',
        as: 'bob',
        requestTimeout: '30s',
        verbosity: '6',
        namespace: 'not-a-global-flag',
      }),
    ).toEqual(['--kubeconfig', '/k', '--context', 'c', '--cluster', 'cl', '--user', 'u', '--as', 'bob', '--request-timeout', '30s', '-v', '6']);
  });
  it('is empty for an empty context', () => {
    expect(globalFlags({})).toEqual([]);
  });
});

describe('timeouts', () => {
  it.each([
    ['30', 30_000],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['1.5s', 1500],
    ['0', 0],
    ['abc', undefined],
    ['5x', undefined],
    ['', undefined],
  ])('parseKubectlDuration(%j) = %s', (value, expected) => {
    expect(parseKubectlDuration(value)).toBe(expected);
  });
  it('keeps the default unless --request-timeout asks for more', () => {
    expect(callTimeout(20_000, undefined)).toBe(20_000);
    expect(callTimeout(20_000, '5s')).toBe(20_000);
    expect(callTimeout(20_000, '0')).toBe(20_000);
    expect(callTimeout(20_000, '60s')).toBe(65_000);
  });
});

describe('run', () => {
  it('runs $KUBECTL_PATH with the global flags first, and reports every call', async () => {
    fake = fakeKubectl([{ when: ['version', '--client'], steps: [{ stdout: 'Client Version: v1.32.4\n', stderr: 'warn\n' }] }]);
    const seen: string[][] = [];
    const kubectl = createKubectl({ context: 'ctx1', requestTimeout: '10s' }, { env: fake.env, onCall: (args) => seen.push(args) });
    expect(kubectl.binary).toBe(fake.env.KUBECTL_PATH);
    const out = await kubectl.run(['version', '--client']);
    expect(out).toEqual({ stdout: 'Client Version: v1.32.4\n', stderr: 'warn\n' });
    const expected = ['--context', 'ctx1', '--request-timeout', '10s', 'version', '--client'];
    expect(fake.calls()).toEqual([expected]);
    expect(seen).toEqual([expected]);
    expect(kubectl.calls).toBe(1);
  });

  it('uses `kubectl` from PATH when KUBECTL_PATH is unset', () => {
    const env = { ...process.env };
    delete env.KUBECTL_PATH;
    expect(createKubectl({}, { env }).binary).toBe('kubectl');
  });

  it('passes `input` on stdin and otherwise gives kubectl an empty stdin (no prompt can hang)', async () => {
    fake = fakeKubectl([
      { when: ['apply'], stdinFile: 'with-input' },
      { when: ['get'], stdinFile: 'without-input' },
    ]);
    const kubectl = createKubectl({}, { env: fake.env });
    await kubectl.run(['apply', '-f', '-'], { input: 'kind: Pod\n' });
    await kubectl.run(['get', 'pods'], { timeoutMs: 5000 });
    expect(readFileSync(fake.file('with-input'), 'utf8')).toBe('kind: Pod\n');
    expect(readFileSync(fake.file('without-input'), 'utf8')).toBe('');
  });

  it('rejects with the mapped error, keeping the machine fields', async () => {
    const stderr = 'Error from server (NotFound): pods "web-1" not found\n';
    fake = fakeKubectl([{ when: ['get', 'pod'], steps: [{ stderr }], exit: 1 }]);
    const kubectl = createKubectl({ context: 'c' }, { env: fake.env });
    const error = await kubectl.run(['get', 'pod', 'web-1', '-n', 'shop', '-o', 'json']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFound);
    expect(error).toMatchObject({
      message: 'pod "web-1" not found in namespace "shop"',
      exitCode: 1,
      stderr,
      args: ['--context', 'c', 'get', 'pod', 'web-1', '-n', 'shop', '-o', 'json'],
    });
  });

  it('kills kubectl when the timeout expires and says so', async () => {
    fake = fakeKubectl([{ when: ['get'], steps: [{ stderr: 'slow…\n' }], hang: true }]);
    const kubectl = createKubectl({}, { env: fake.env });
    const started = Date.now();
    const error = await kubectl.run(['get', 'pods'], { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error).toBeInstanceOf(Timeout);
    expect(error).toMatchObject({ timeoutMs: 300, message: 'kubectl did not finish within 0.3 s (kubectl get pods)' });
    expect((error as Timeout).remedy).toContain('--request-timeout');
  });

  it('applies the default timeout to every call', async () => {
    fake = fakeKubectl([{ when: ['get'], hang: true }]);
    const kubectl = createKubectl({}, { env: fake.env, defaultTimeoutMs: 250 });
    await expect(kubectl.run(['get', 'pods'])).rejects.toBeInstanceOf(Timeout);
  });

  it('reports a missing kubectl', async () => {
    const kubectl = createKubectl({}, { env: { ...process.env, KUBECTL_PATH: '/nonexistent/kubectl' } });
    const error = await kubectl.run(['version']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubectlNotFound);
    expect(error).toMatchObject({
      reason: 'missing',
      message: 'kubectl not found: cannot run "/nonexistent/kubectl"',
      remedy: expect.stringContaining('KUBECTL_PATH'),
    });
  });

  it('reports a kubectl that is not executable', async () => {
    fake = fakeKubectl([]);
    const path = fake.file('kubectl');
    writeFileSync(path, '#!/bin/sh\n');
    chmodSync(path, 0o644);
    const kubectl = createKubectl({}, { env: { ...process.env, KUBECTL_PATH: path } });
    await expect(kubectl.run(['version'])).rejects.toMatchObject({ name: 'KubectlNotFound', reason: 'not-executable' });
  });
});

describe('json', () => {
  it('parses stdout', async () => {
    fake = fakeKubectl([{ when: ['get'], steps: [json({ kind: 'Pod', metadata: { name: 'p' } })] }]);
    const kubectl = createKubectl({}, { env: fake.env });
    await expect(kubectl.json<{ metadata: { name: string } }>(['get', 'pod', 'p', '-o', 'json'])).resolves.toMatchObject({
      metadata: { name: 'p' },
    });
  });
  it('rejects output that is not JSON', async () => {
    fake = fakeKubectl([{ when: ['get'], steps: [{ stdout: 'NAME  AGE\np     1d\n' }] }]);
    const kubectl = createKubectl({}, { env: fake.env });
    const error = await kubectl.json(['get', 'pod', 'p']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubectlFailed);
    expect((error as Error).message).toBe('kubectl get failed (exit 0): printed no JSON: NAME  AGE\np     1d');
  });
});

describe('namespace resolution', () => {
  it('uses -n without asking kubectl', async () => {
    fake = fakeKubectl([{ when: ['get'], steps: [{ stdout: 'ok' }] }]);
    const kubectl = createKubectl({ namespace: 'given' }, { env: fake.env });
    await kubectl.run(['get', 'pods'], { namespaced: true });
    expect(fake.calls()).toEqual([['-n', 'given', 'get', 'pods']]);
  });

  it("reads the context's namespace with one cached config view call", async () => {
    fake = fakeKubectl([
      { when: ['config', 'view', '--minify', '-o', 'json'], steps: [configView('team-a')] },
      { when: ['get'], steps: [{ stdout: 'ok' }] },
    ]);
    const kubectl = createKubectl({ context: 'ctx1' }, { env: fake.env });
    await Promise.all([kubectl.namespace(), kubectl.run(['get', 'pods'], { namespaced: true })]);
    await kubectl.run(['get', 'services'], { namespaced: true });
    expect(await kubectl.namespace()).toBe('team-a');
    expect(fake.calls()).toEqual([
      ['--context', 'ctx1', 'config', 'view', '--minify', '-o', 'json'],
      ['--context', 'ctx1', '-n', 'team-a', 'get', 'pods'],
      ['--context', 'ctx1', '-n', 'team-a', 'get', 'services'],
    ]);
    expect(kubectl.calls).toBe(3);
  });

  it('leaves args that already name a namespace alone', async () => {
    fake = fakeKubectl([{ when: ['get'], steps: [{ stdout: 'ok' }] }]);
    const kubectl = createKubectl({}, { env: fake.env });
    await kubectl.run(['get', 'pods', '-n', 'explicit'], { namespaced: true });
    expect(fake.calls()).toEqual([['get', 'pods', '-n', 'explicit']]);
  });

  it('falls back to "default" when the context has no namespace', async () => {
    fake = fakeKubectl([{ when: ['config', 'view'], steps: [configView()] }]);
    await expect(createKubectl({}, { env: fake.env }).namespace()).resolves.toBe('default');
  });

  it('falls back to "default" when there is no current context', async () => {
    fake = fakeKubectl([
      { when: ['config', 'view'], steps: [{ stderr: 'error: current-context must exist in order to minify\n' }], exit: 1 },
    ]);
    await expect(createKubectl({}, { env: fake.env }).namespace()).resolves.toBe('default');
  });

  it('reports a --context that does not exist', async () => {
    fake = fakeKubectl([{ when: ['config', 'view'], steps: [{ stderr: 'error: cannot locate context nope\n' }], exit: 1 }]);
    const kubectl = createKubectl({ context: 'nope' }, { env: fake.env });
    await expect(kubectl.run(['get', 'pods'], { namespaced: true })).rejects.toBeInstanceOf(ContextNotFound);
  });
});

describe('spawn', () => {
  it('starts a child whose exit never rejects, and maps its failure', async () => {
    fake = fakeKubectl([
      {
        when: ['port-forward'],
        steps: [{ stderr: 'error: unable to forward port because pod is not running. Current status=Pending\n' }],
        exit: 1,
      },
    ]);
    const kubectl = createKubectl({ context: 'c' }, { env: fake.env });
    const proc = kubectl.spawn(['port-forward', '-n', 'ns', 'pod/p', ':5678']);
    expect(proc.args).toEqual(['--context', 'c', 'port-forward', '-n', 'ns', 'pod/p', ':5678']);
    let stderr = '';
    proc.child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exit = await proc.exited;
    expect(exit).toEqual({ exitCode: 1, signal: null, timedOut: false });
    expect(kubectl.failure(proc, exit, stderr, { pod: 'p' })).toMatchObject({ name: 'PodNotRunning', phase: 'Pending' });
    expect(kubectl.calls).toBe(1);
  });

  it('reports a missing kubectl through exited', async () => {
    const kubectl = createKubectl({}, { env: { ...process.env, KUBECTL_PATH: '/nonexistent/kubectl' } });
    const proc = kubectl.spawn(['port-forward']);
    const exit = await proc.exited;
    expect(exit.startError).toBeInstanceOf(KubectlNotFound);
    expect(kubectl.failure(proc, exit, '')).toBe(exit.startError);
  });

  it('kills a child that outlives its timeout', async () => {
    fake = fakeKubectl([{ when: ['exec'], hang: true }]);
    const kubectl = createKubectl({}, { env: fake.env });
    const proc = kubectl.spawn(['exec', 'p'], { timeoutMs: 200 });
    const exit = await proc.exited;
    expect(exit.timedOut).toBe(true);
    expect(kubectl.failure(proc, exit, '')).toMatchObject({ name: 'Timeout', timeoutMs: 200 });
  });
});
