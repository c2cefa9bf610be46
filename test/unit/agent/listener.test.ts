/**
 * Runs test/unit/agent/test_listener.py (closing the debugpy listener in live Python 3.14
 * processes, then WAND_LISTENER_CYCLES listen/attach/close cycles against one process) under its
 * own time limit, apart from the rest of the agent's suite (agent.test.ts). CI may lower the cycle
 * count with WAND_LISTENER_CYCLES; each cycle takes ~1.5 s.
 */
import { spawnSync } from 'node:child_process';
import { testRoot } from './python-suite';

const CYCLES = Number(process.env.WAND_LISTENER_CYCLES ?? 20);
const LIMIT_MS = 120_000 + CYCLES * 6_000;

describe('the listener close in live processes (Python unittest)', () => {
  it('passes', () => {
    const root = testRoot();
    const env: NodeJS.ProcessEnv = { ...process.env, WAND_LISTENER_CYCLES: String(CYCLES) };
    if (root) env.WAND_TEST_ROOT = root;
    const run = spawnSync('python3', ['-m', 'unittest', '-v', 'test_listener'], { cwd: __dirname, env, encoding: 'utf8', timeout: LIMIT_MS });
    const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
    if (run.status !== 0) throw new Error(`python3 -m unittest test_listener exited with ${run.status ?? run.signal}:\n${output}`);
    if (process.env.CI === 'true' && root === undefined) throw new Error('the listener tests were skipped on CI: no root filesystem with python3.14');
    expect(run.status).toBe(0);
  }, LIMIT_MS);
});
