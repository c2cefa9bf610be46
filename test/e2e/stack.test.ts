/**
 * `kubectl wand stack` end to end: every thread's stack read from outside the process, so it works
 * on a main thread that never runs Python code again, and where remote debugging is disabled.
 */
import { SCENARIOS } from './support/apps';
import { e2eAvailable, startWandEnv, type WandEnv } from './support/wand-env';

const run = e2eAvailable() ? describe : describe.skip;
jest.setTimeout(120_000);

const BLOCKED = SCENARIOS['blocked-main'];
const DISABLED = SCENARIOS['remote-debug-disabled/env-off'];

interface StackJson {
  op: 'stack';
  pid: number;
  threads: Array<{ threadId: number; isMain: boolean; frames: Array<{ function: string; file: string; line: number }> }>;
}

run('kubectl wand stack', () => {
  let env: WandEnv;

  beforeAll(async () => {
    env = await startWandEnv([BLOCKED.manifest, DISABLED.manifest]);
    await env.waitServing([BLOCKED.namespace, DISABLED.namespace], 8000);
  });
  afterAll(async () => {
    await env?.stop();
  });

  const blocked = (...args: string[]) => ['stack', `svc/${BLOCKED.service}`, '-n', BLOCKED.namespace, ...args];

  test('shows the frame the main thread waits in forever: threading.Event().wait()', async () => {
    const r = await env.wand(blocked());
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Process 1: python3 app\.py\nPython 3\.14\.\d+ — pod app-\S+, container app\n\n/);
    const main = /Thread (\d+) \(main\):\n((?: {2}.*\n)+)/.exec(r.stdout);
    expect(main).not.toBeNull();
    const frames = main![2]!.trimEnd().split('\n');
    expect(frames[0]).toMatch(/^ {2}Condition\.wait \(\S*threading\.py:\d+\)$/);
    expect(frames).toContainEqual(expect.stringMatching(/^ {2}Event\.wait \(\S*threading\.py:\d+\)$/));
    expect(frames[frames.length - 1]).toBe('  <module> (/app/app.py:25)');
    // the HTTP thread too, serving in serve_forever
    expect(r.stdout).toMatch(/Thread \d+:\n(?: {2}.*\n)*? {2}BaseServer\.serve_forever \(\S*socketserver\.py:\d+\)/);
  });

  test('-o json prints the StackResult document', async () => {
    const r = await env.wand(blocked('-o', 'json'));
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as StackJson;
    expect(doc.op).toBe('stack');
    expect(doc.pid).toBe(1);
    const [main, ...others] = doc.threads;
    expect(main!.isMain).toBe(true);
    expect(main!.frames[main!.frames.length - 1]).toEqual({ function: '<module>', file: '/app/app.py', line: 25 });
    expect(others.length).toBeGreaterThanOrEqual(1);
    expect(others.every((t) => !t.isMain)).toBe(true);
  });

  test('reads memory only: works with remote debugging disabled, and the app keeps serving', async () => {
    const r = await env.wand(['stack', `svc/${DISABLED.service}`, '-n', DISABLED.namespace, '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Thread \d+ \(main\):\n(?: {2}.*\n)*? {2}<module> \(\/app\/app\.py:\d+\)/);
    for (const s of [BLOCKED, DISABLED]) {
      const body = await env.getApp(s, env.podName(s.namespace));
      expect(JSON.parse(body)).toEqual({ value: 42 });
    }
  });

  test('an unknown --pid is one line and a hint', async () => {
    const r = await env.wand(blocked('--pid', '4242'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: no process with PID 4242 in this container/);
    expect(r.stderr).toMatch(/^hint: /m);
    expect(r.stderr).not.toMatch(/\n\s+at |Traceback/);
  });
});
