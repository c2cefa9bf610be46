/**
 * Every scenario manifest, run for real: one pod of it in rootfs sandboxes (the emulator's Debian
 * testing images, or views of the probe rootfs), an HTTP request from inside the pod, the process shape apps.ts claims, and the
 * attach outcome — debugpy injected with sys.remote_exec into each serving process, then
 * attachAndHitBreakpoint on the recorded line. Needs root and a root filesystem; skipped otherwise.
 */
import { join } from 'node:path';
import { allScenarios, type Scenario } from './apps';
import { attachAndHitBreakpoint } from './dap';
import { urlopenArgv } from './http-in-pod';
import { containerArgv, readManifest, workloads, type Workload } from './manifests';
import { sandboxSupported, type ExecResult, type SandboxProcess } from './rootfs-sandbox';
import { imageHasCommand, imageView, startSandboxPod, writeHostDir, type SandboxContainer, type SandboxPod } from './sandbox-pod';

const DEBUGPY_PORT = 5679;
const INJECT_DIR = '/wand-inject';
const DEBUGPY_DIR = '/wand-debugpy';
const REMOTE_EXEC_PY = 'import sys;sys.remote_exec(int(sys.argv[1]),sys.argv[2])';

function listenScript(port: number): string {
  // appended, not prepended: an image's own debugpy wins; the slim image only has this one
  return [
    'import sys',
    `sys.path.append("${DEBUGPY_DIR}")`,
    'import debugpy',
    'debugpy.configure(subProcess=False)',
    `debugpy.listen(("127.0.0.1", ${port}))`,
    '',
  ].join('\n');
}

/** Python processes that do the work: not a parent of another Python process, not a helper */
function servingProcesses(processes: SandboxProcess[]): SandboxProcess[] {
  const python = processes.filter((p) => p.exe.startsWith('python'));
  const helper = (p: SandboxProcess): boolean =>
    p.argv.some((a) => a.includes('resource_tracker') || a.includes('debugpy/adapter') || a === REMOTE_EXEC_PY || a.includes('urllib.request'));
  return python.filter((p) => !helper(p) && !python.some((c) => c.ppid === p.pid && !helper(c)));
}

function readManifestWorkload(s: Scenario): Workload | undefined {
  return workloads(readManifest(s.manifest)).find((w) => `${w.kind.toLowerCase()}/${w.name}` === s.workload);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const BASE_ROOT = imageView('wand-test/python:3.14').root;
const describeIfRootfs = sandboxSupported(BASE_ROOT) ? describe : describe.skip;
// e.g. fastapi-dev needs the emulator image's `fastapi` stand-in, absent from the probe rootfs
const runnable = allScenarios().filter((s) => {
  const app = readManifestWorkload(s)?.spec.containers.find((c) => c.name === s.container);
  return s.emulatorGap === undefined && app !== undefined && imageHasCommand(s.image, containerArgv(app)[0] ?? '');
});

describeIfRootfs('scenario manifests run in the Debian rootfs', () => {
  const injectDir = writeHostDir(
    Object.fromEntries([0, 1, 2].map((i) => [`listen-${DEBUGPY_PORT + i}.py`, listenScript(DEBUGPY_PORT + i)])),
  );
  afterAll(() => injectDir.remove());

  describe.each(runnable.map((s) => [s.id, s] as const))('%s', (_id, s) => {
    let pod: SandboxPod;
    let app: SandboxContainer;

    const exec = (argv: string[], env: Record<string, string> = app.env): Promise<ExecResult> =>
      app.sandbox.exec(argv, { uid: app.uid, gid: app.gid, env, timeoutMs: 60_000 });

    const get = async (): Promise<unknown> => {
      const result = await exec(urlopenArgv(s.url, 50_000));
      if (result.exitCode !== 0) throw new Error(`GET ${s.url}: ${result.stderr}\n--- app output:\n${app.sandbox.output()}`);
      return JSON.parse(result.stdout);
    };

    /**
     * GETs one after another until one is held up (it stopped on the breakpoint in the attached
     * process; with several workers the others answer at once), then waits for that one.
     */
    const getUntilHeld = async (): Promise<unknown> => {
      for (let attempt = 0; attempt < 20; attempt++) {
        const request = get();
        const held = await Promise.race([request.then(() => false), sleep(1_000).then(() => true)]);
        if (held) return request;
      }
      return undefined;
    };

    const inject = (pid: number, port: number, env?: Record<string, string>): Promise<ExecResult> =>
      exec(['python3', '-c', REMOTE_EXEC_PY, String(pid), `${INJECT_DIR}/listen-${port}.py`], env);

    beforeAll(async () => {
      const objects = readManifest(s.manifest);
      const workload = readManifestWorkload(s);
      if (!workload) throw new Error(`no ${s.workload} in ${s.manifest}`);
      pod = await startSandboxPod(objects, workload, [
        { hostPath: injectDir.path, mountPath: INJECT_DIR, readOnly: true },
        { hostPath: join(BASE_ROOT, 'usr/lib/python3/dist-packages/debugpy'), mountPath: `${DEBUGPY_DIR}/debugpy`, readOnly: true },
      ]);
      const container = pod.containers[s.container];
      if (!container) throw new Error(`no container ${s.container}`);
      app = container;
      await app.sandbox.waitForListen(s.port, 30_000);
    }, 60_000);

    afterAll(async () => {
      await pod?.stop();
    });

    it('answers GET /work from inside the pod', async () => {
      expect(await get()).toEqual({ value: Number(s.expectedValue) });
    }, 60_000);

    it('has the process shape apps.ts records', async () => {
      // reloaders and gunicorn start their workers a moment after the socket is bound
      let serving = servingProcesses(app.sandbox.processes());
      for (let i = 0; i < 50 && serving.length < s.servingProcesses; i++) {
        await sleep(100);
        serving = servingProcesses(app.sandbox.processes());
      }
      expect(serving.length).toBe(s.servingProcesses);
      expect(serving.some((p) => p.pid === 1)).toBe(s.pid1Serves);
      for (const sidecar of s.sidecars) {
        expect(pod.containers[sidecar]?.sandbox.processes().length).toBeGreaterThan(0);
      }
    }, 30_000);

    if (s.outcome === 'attach') {
      it('stops on the breakpoint in every serving process after sys.remote_exec injects debugpy', async () => {
        const serving = servingProcesses(app.sandbox.processes());
        const ports = serving.map((_, i) => DEBUGPY_PORT + i);
        for (const [i, proc] of serving.entries()) {
          const result = await inject(proc.pid, ports[i] ?? DEBUGPY_PORT);
          expect(result).toMatchObject({ exitCode: 0, stderr: '' });
        }
        // an idle gunicorn sync worker only runs the script once a request wakes it
        const deadline = Date.now() + 30_000;
        for (const port of ports) {
          while (Date.now() < deadline) {
            const listening = await app.sandbox.waitForListen(port, 300).then(() => true, () => false);
            if (listening) break;
            await get();
          }
          await app.sandbox.waitForListen(port, 0);
        }
        for (const port of ports) {
          const forward = await app.sandbox.forward(port);
          try {
            const hit = await attachAndHitBreakpoint({
              port: forward.localPort,
              file: s.appFile,
              line: s.breakpointLine,
              trigger: getUntilHeld,
              evaluate: s.evaluate,
              timeoutMs: 20_000,
            });
            expect(hit).toEqual({ stoppedLine: s.breakpointLine, stoppedPath: s.appFile, evaluated: s.expectedValue, requestCompleted: true });
          } finally {
            forward.close();
          }
        }
        expect(await get()).toEqual({ value: Number(s.expectedValue) });
      }, 120_000);
    }

    if (s.outcome === 'remote-debug-disabled') {
      it('refuses sys.remote_exec', async () => {
        const [target] = servingProcesses(app.sandbox.processes());
        const fromExec = await inject(target?.pid ?? 1, DEBUGPY_PORT);
        expect(fromExec.exitCode).not.toBe(0);
        expect(fromExec.stderr).toMatch(/Remote debugging is not enabled/);
        const { PYTHON_DISABLE_REMOTE_DEBUG: _dropped, ...cleanEnv } = app.env;
        const clean = await inject(target?.pid ?? 1, DEBUGPY_PORT, cleanEnv);
        expect(clean.exitCode).not.toBe(0);
        expect(clean.stderr).toMatch(/Remote debugging is not enabled in the remote process/);
      }, 60_000);
    }

    if (s.outcome === 'python-too-old') {
      it('has no sys.remote_exec', async () => {
        const [target] = servingProcesses(app.sandbox.processes());
        const own = await inject(target?.pid ?? 1, DEBUGPY_PORT);
        expect(own.exitCode).not.toBe(0);
        expect(own.stderr).toMatch(/has no attribute 'remote_exec'/);
      }, 60_000);
    }

    if (s.outcome === 'main-thread-blocked') {
      it('accepts sys.remote_exec but never runs it, while HTTP keeps working', async () => {
        const [target] = servingProcesses(app.sandbox.processes());
        expect(await inject(target?.pid ?? 1, DEBUGPY_PORT)).toMatchObject({ exitCode: 0 });
        expect(await get()).toEqual({ value: Number(s.expectedValue) });
        await expect(app.sandbox.waitForListen(DEBUGPY_PORT, 3_000)).rejects.toThrow(/nothing listens/);
      }, 60_000);
    }
  });
});
