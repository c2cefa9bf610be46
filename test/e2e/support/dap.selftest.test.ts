/**
 * attachAndHitBreakpoint against a real debugpy: a stdlib HTTP app started under
 * `python3 -m debugpy --listen` in a sandbox of the Debian rootfs (private network namespace,
 * reached through a forwarded port, as kubectl port-forward would). Needs root and the rootfs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachAndHitBreakpoint } from './dap';
import { urlopenArgv } from './http-in-pod';
import { sandboxSupported, startSandbox, type Sandbox } from './rootfs-sandbox';
import { imageView } from './sandbox-pod';

const APP = `import json
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse


def work(x):
    value = int(x) * 2
    return value  # BREAKPOINT


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        x = parse_qs(urlparse(self.path).query).get("x", ["1"])[0]
        body = json.dumps({"value": work(x)}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


HTTPServer(("127.0.0.1", 8000), Handler).serve_forever()
`;
const BREAKPOINT_LINE = APP.split('\n').findIndex((line) => line.includes('# BREAKPOINT')) + 1;

const ROOT = imageView('wand-test/python:3.14').root;
const describeIfRootfs = sandboxSupported(ROOT) ? describe : describe.skip;

describeIfRootfs('attachAndHitBreakpoint (real debugpy in a rootfs sandbox)', () => {
  let appDir: string;
  let sandbox: Sandbox;
  let forward: { localPort: number; close: () => void };

  beforeAll(async () => {
    appDir = mkdtempSync(join(tmpdir(), 'wand-dap-selftest-'));
    writeFileSync(join(appDir, 'app.py'), APP);
    sandbox = await startSandbox({
      root: ROOT,
      argv: ['python3', '-m', 'debugpy', '--listen', '127.0.0.1:5679', 'app.py'],
      workingDir: '/app',
      env: { PYTHONDONTWRITEBYTECODE: '1' },
      mounts: [{ hostPath: appDir, mountPath: '/app', readOnly: true }],
      network: 'private',
    });
    await sandbox.waitForListen(8000);
    await sandbox.waitForListen(5679);
    forward = await sandbox.forward(5679);
  }, 30_000);

  afterAll(async () => {
    forward?.close();
    await sandbox?.stop();
    rmSync(appDir, { recursive: true, force: true });
  });

  const request = async (): Promise<string> => {
    const result = await sandbox.exec(urlopenArgv('http://127.0.0.1:8000/work?x=21', 30_000));
    if (result.exitCode !== 0) throw new Error(`request failed: ${result.stderr}`);
    return result.stdout;
  };

  it('stops on the breakpoint, evaluates the local, and lets the request finish', async () => {
    let body = '';
    const hit = await attachAndHitBreakpoint({
      port: forward.localPort,
      file: '/app/app.py',
      line: BREAKPOINT_LINE,
      trigger: async () => (body = await request()),
      evaluate: 'value',
      timeoutMs: 15_000,
    });
    expect(hit).toEqual({
      stoppedLine: BREAKPOINT_LINE,
      stoppedPath: '/app/app.py',
      evaluated: '42',
      requestCompleted: true,
    });
    expect(JSON.parse(body)).toEqual({ value: 42 });
  }, 60_000);

  it('can attach again after detaching, and the app keeps serving', async () => {
    const hit = await attachAndHitBreakpoint({
      port: forward.localPort,
      file: '/app/app.py',
      line: BREAKPOINT_LINE,
      trigger: request,
      evaluate: 'int(x) + value',
      timeoutMs: 15_000,
    });
    expect(hit.evaluated).toBe('63');
    expect(JSON.parse(await request())).toEqual({ value: 42 });
  }, 60_000);

  it('rejects with a clear error when the breakpoint line cannot be verified', async () => {
    await expect(
      attachAndHitBreakpoint({
        port: forward.localPort,
        file: '/app/does-not-exist.py',
        line: 1,
        trigger: request,
        evaluate: 'value',
        timeoutMs: 5_000,
      }),
    ).rejects.toThrow(/not verified|timed out/);
    expect(JSON.parse(await request())).toEqual({ value: 42 });
  }, 60_000);

  it('rejects quickly when nothing listens', async () => {
    const closed = await sandbox.forward(5999);
    const started = Date.now();
    try {
      await expect(
        attachAndHitBreakpoint({ port: closed.localPort, file: '/app/app.py', line: 1, trigger: request, evaluate: '1', timeoutMs: 10_000 }),
      ).rejects.toThrow(/closed the connection/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      closed.close();
    }
  }, 30_000);
});
