/**
 * `kubectl wand exec` end to end: code runs inside the live app process on the test cluster and its
 * output comes back to our terminal, not to the pod's log.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SCENARIOS } from './support/apps';
import { e2eAvailable, startWandEnv, type WandEnv } from './support/wand-env';

const run = e2eAvailable() ? describe : describe.skip;
jest.setTimeout(120_000);

const UVICORN = SCENARIOS['fastapi-uvicorn-reload'];
const PLAIN = SCENARIOS['sh-wrapper'];

run('kubectl wand exec', () => {
  let env: WandEnv;
  let scratch: string;

  beforeAll(async () => {
    env = await startWandEnv([UVICORN.manifest, PLAIN.manifest]);
    await env.waitServing([UVICORN.namespace, PLAIN.namespace], 8000);
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'wand-exec-'));
  });
  afterAll(async () => {
    await env?.stop();
    if (scratch) await fs.rm(scratch, { recursive: true, force: true });
  });

  const uvicorn = (...args: string[]) => ['exec', `svc/${UVICORN.service}`, '-n', UVICORN.namespace, ...args];

  async function workerPid(): Promise<number> {
    const r = await env.wand(['pods', `svc/${UVICORN.service}`, '-n', UVICORN.namespace, '--with-pids', '-o', 'json']);
    const pods = (JSON.parse(r.stdout) as { pods: Array<{ processes: Array<{ pid: number; recommended: boolean }> }> }).pods;
    return pods[0]!.processes.find((p) => p.recommended)!.pid;
  }

  function noStackTraces(stderr: string): void {
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr).not.toMatch(/Traceback/);
  }

  test("prints the target's PID on our stdout, and nothing lands in kubectl logs", async () => {
    const marker = `wand-marker-${process.pid}-${Date.now()}`;
    const r = await env.wand(uvicorn('--code', `import os; print(os.getpid()); print(${JSON.stringify(marker)})`));
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const pid = await workerPid();
    expect(r.stdout).toBe(`${pid}\n${marker}\n`);
    expect(r.stderr).toMatch(new RegExp(`PID ${pid} — `)); // the choice, on stderr
    const logs = await env.kubectl(['logs', env.podName(UVICORN.namespace), '-n', UVICORN.namespace]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).not.toContain(marker);
  });

  test('stdout and stderr of the code go to our stdout and stderr; a final expression is echoed', async () => {
    const r = await env.wand(uvicorn('-q', '--code', 'import sys\nprint("out")\nprint("err", file=sys.stderr)\n6 * 7'));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('out\n42\n');
    expect(r.stderr).toBe('err\n');
  });

  test('-f FILE runs the file', async () => {
    const file = path.join(scratch, 'snippet.py');
    await fs.writeFile(file, 'import sys\nprint("python", "%d.%d" % sys.version_info[:2])\n');
    const r = await env.wand(uvicorn('-q', '-f', file));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('python 3.14\n');
  });

  test('- reads the code from stdin', async () => {
    const r = await env.wand(uvicorn('-q', '-'), { input: 'import os\nprint(os.getppid())\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('1\n'); // the worker's parent is the reloader, PID 1
  });

  test('an exception exits 1 with its traceback', async () => {
    const r = await env.wand(uvicorn('-q', '--code', 'def f():\n    raise ValueError("boom")\nf()'));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Traceback \(most recent call last\):\n {2}File "<wand-exec>", line 3, in <module>\n/);
    expect(r.stderr).toMatch(/ValueError: boom\n$/);
    expect(r.stderr).not.toMatch(/_wand_|kubectl-wand/); // only the user's frames
  });

  test('a syntax error is reported with line and column, and nothing is injected', async () => {
    const r = await env.wand(uvicorn('-q', '--code', 'x = 1\nprint(x'));
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: syntax error in --code at line 2, column 6: '\(' was never closed — nothing was injected\nhint: fix line 2, column 6: print\(x\n$/);
    noStackTraces(r.stderr);
    // exactly: resolve the Service, list its pods, list processes, run the agent (which stops at compile())
    expect(r.kubectlCalls.filter((c) => c.includes('exec'))).toHaveLength(2);
  });

  test('--module __main__ runs among the module globals of the app', async () => {
    const r = await env.wand(['exec', `svc/${PLAIN.service}`, '-n', PLAIN.namespace, '-q', '--module', '__main__', '--code', 'work(21), Handler.__name__, __name__']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("(42, 'Handler', '__main__')\n");
  });

  test('without --module the code gets a fresh namespace, but live modules', async () => {
    const r = await env.wand(['exec', `svc/${PLAIN.service}`, '-n', PLAIN.namespace, '-q', '--code', "import sys\nprint(__name__, 'work' in globals(), sys.modules['__main__'].work(5))"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('__wand_exec__ False 10\n');
  });

  test('an unknown --module is one line and a hint', async () => {
    const r = await env.wand(uvicorn('-q', '--module', 'nope', '--code', '1'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: module 'nope' is not imported in the target process\nhint: .*--module __main__/);
    noStackTraces(r.stderr);
  });

  test('the app keeps serving', async () => {
    for (const s of [UVICORN, PLAIN]) {
      const body = await env.getApp(s, env.podName(s.namespace));
      expect(JSON.parse(body)).toEqual({ value: 42 });
    }
  });

  test.each([
    [['--code', '1', '-f', 'x.py'], /^error: the code was given more than once\nhint: give the code exactly one way: --code CODE, -f FILE or - \(read from stdin\)\n$/],
    [[], /^error: no code given\n/],
  ])('usage errors exit 2 before any kubectl call: %j', async (args, message) => {
    const r = await env.wand(uvicorn(...args));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.kubectlCalls).toHaveLength(0);
  });

  test('a missing file is a precise usage error (exit 2)', async () => {
    const r = await env.wand(uvicorn('-f', path.join(scratch, 'missing.py')));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: cannot read -f \S+missing\.py: no such file/);
    expect(r.stderr).toMatch(/^hint: /m);
    expect(r.kubectlCalls).toHaveLength(0);
  });
});
