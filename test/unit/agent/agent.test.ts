/**
 * Runs the in-pod agent's Python test suite (test/unit/agent/test_*.py) so that `npm test` covers
 * it. The tests against real Python 3.14 processes need root and the probe root filesystem; they
 * run whenever both are there (WAND_TEST_ROOT may point elsewhere) and are skipped otherwise.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { imageRoot } from '../../cluster/images/images';

const REPO = join(__dirname, '..', '..', '..');
/** the test cluster's full image (npm run images builds it; CI always does) */
const IMAGE_ROOT = imageRoot('wand-test/python:3.14');

function testRoot(): string | undefined {
  if (process.env.WAND_TEST_ROOT) return process.env.WAND_TEST_ROOT;
  const isRoot = process.getuid?.() === 0;
  return isRoot && existsSync(join(IMAGE_ROOT, 'usr/bin/python3.14')) ? IMAGE_ROOT : undefined;
}

describe('in-pod agent (Python unittest suite)', () => {
  it('passes', () => {
    const root = testRoot();
    // the ptrace injector's tests run from ptrace.test.ts, with their own timeout
    const env: NodeJS.ProcessEnv = { ...process.env, WAND_PTRACE_TESTS: 'separately' };
    if (root) env.WAND_TEST_ROOT = root;
    const run = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', 'test/unit/agent', '-v'], {
      cwd: REPO,
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
