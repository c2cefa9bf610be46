/** httpGetInPod builds `kubectl … exec POD -c C -- python3 -c …` as argv, and reports failures in one line. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpGetInPod, URLOPEN_PY } from './http-in-pod';

describe('httpGetInPod', () => {
  let dir: string;
  let kubectl: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'wand-fake-kubectl-'));
    kubectl = join(dir, 'kubectl');
    // prints its argv as JSON, or fails like kubectl when the pod is "missing"
    writeFileSync(
      kubectl,
      `#!${process.execPath}\nconst a = process.argv.slice(2);\n` +
        `if (a.includes('missing')) { process.stderr.write('Error from server (NotFound): pods "missing" not found\\n'); process.exit(1); }\n` +
        `process.stdout.write(JSON.stringify(a));\n`,
    );
    chmodSync(kubectl, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("passes the URL and timeout as argv, after the caller's kubectl flags", async () => {
    const url = "http://127.0.0.1:8000/work?x=21&y='$(reboot)'";
    const out = await httpGetInPod(['--context', 'kind-wand', '-n', 'wand-flask'], 'web-1', 'web', url, { kubectl, timeoutMs: 5_000 });
    expect(JSON.parse(out)).toEqual(['--context', 'kind-wand', '-n', 'wand-flask', 'exec', 'web-1', '-c', 'web', '--', 'python3', '-c', URLOPEN_PY, url, '5']);
  });

  it("rejects with kubectl's stderr", async () => {
    await expect(httpGetInPod([], 'missing', 'web', 'http://127.0.0.1:8000/', { kubectl })).rejects.toThrow(
      'GET http://127.0.0.1:8000/ in missing/web failed: Error from server (NotFound): pods "missing" not found',
    );
  });
});
