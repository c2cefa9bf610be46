/**
 * Runs the in-pod agent's Python test suite (test/unit/agent/test_*.py) so that `npm test` covers
 * it. The tests against real Python 3.14 processes need root and the probe root filesystem; they
 * run whenever both are there (WAND_TEST_ROOT may point elsewhere) and are skipped otherwise.
 * test_listener.py (listener cycles against live processes, slow) runs in listener.test.ts, with
 * its own time limit.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { OWN_WRAPPER, testRoot } from './python-suite';

describe('in-pod agent (Python unittest suite)', () => {
  it('passes', () => {
    const root = testRoot();
    // the ptrace injector's tests run from ptrace.test.ts, with their own timeout
    const env: NodeJS.ProcessEnv = { ...process.env, WAND_PTRACE_TESTS: 'separately' };
    if (root) env.WAND_TEST_ROOT = root;
    const modules = readdirSync(__dirname)
      .filter((f) => /^test_\w+\.py$/.test(f))
      .map((f) => f.slice(0, -3))
      .filter((m) => !OWN_WRAPPER.has(m))
      .sort();
    const run = spawnSync('python3', ['-m', 'unittest', '-v', ...modules], {
      cwd: __dirname,
      env,
      encoding: 'utf8',
      timeout: 300_000,
    });
    const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
    if (run.status !== 0) {
      throw new Error(`python3 -m unittest exited with ${run.status ?? run.signal}:\n${output}`);
    }
    if (process.env.CI === 'true' && root === undefined) {
      throw new Error('the 3.14 agent tests were skipped on CI: no root filesystem with python3.14');
    }
    expect(run.status).toBe(0);
  }, 300_000);
});
