/**
 * Runs the ptrace injector's Python tests (test/unit/agent/test_ptrace_inject.py: real CPython
 * 3.9–3.13 targets from /root/.pyenv/versions, the test image's python3.13 in a container) with
 * their own timeout; agent.test.ts runs the rest of the agent's suite. A version whose interpreter
 * is absent is skipped (the tests print which ran); on CI every one must have run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { imageRoot } from '../../cluster/images/images';

const REPO = join(__dirname, '..', '..', '..');
const IMAGE_ROOT = imageRoot('wand-test/python:3.14');
const TIMEOUT_MS = 600_000;

describe('ptrace injector (Python unittest suite)', () => {
  it('passes', () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (!env.WAND_TEST_ROOT && process.getuid?.() === 0 && existsSync(join(IMAGE_ROOT, 'usr/bin/python3.14'))) {
      env.WAND_TEST_ROOT = IMAGE_ROOT;
    }
    const run = spawnSync('python3', ['-m', 'unittest', 'test_ptrace_inject', '-v'], {
      cwd: join(REPO, 'test', 'unit', 'agent'),
      env,
      encoding: 'utf8',
      timeout: TIMEOUT_MS,
    });
    const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
    if (run.status !== 0) throw new Error(`python3 -m unittest exited with ${run.status ?? run.signal}:\n${output}`);
    if (process.env.CI === 'true' && /not run: (?!none)/.test(output)) {
      throw new Error(`live target versions missing on CI:\n${output.split('\n').filter((l) => l.includes('not run')).join('\n')}`);
    }
    expect(run.status).toBe(0);
  }, TIMEOUT_MS);
});
