/**
 * What TypeScript and the in-pod agent must agree on, checked against the agent as it is streamed
 * into pods: the assembled build/src/agent/agent.py (`npm test` builds first), else what
 * loadAgentSource() streams when run from src/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MIN_RUN_SECONDS, REPORTED_ENV, type AgentErrorCode } from '../../../src/agent/contract';
import { loadAgentSource } from '../../../src/session/agent-runner';

const ROOT = path.resolve(__dirname, '../../..');
const ASSEMBLED = path.join(ROOT, 'build/src/agent/agent.py');

/** Every AgentErrorCode once: TypeScript fails to compile this test when the union changes. */
const ERROR_CODES: Record<AgentErrorCode, true> = {
  'no-such-process': true,
  'not-python': true,
  'python-too-old': true,
  'remote-debug-disabled': true,
  'permission-denied': true,
  'no-writable-dir': true,
  'no-debugpy': true,
  timeout: true,
  'injected-code-failed': true,
  'version-mismatch': true,
  'unsupported-arch': true,
  'unsupported-python': true,
  'not-ready': true,
  internal: true,
};

interface AgentConstants {
  MIN_RUN_SECONDS: number;
  REPORTED_ENV: string[];
  ERROR_CODES: string[];
}

/** The agent's module-level constants, read by running its definitions (main() is never called). */
function agentConstants(): AgentConstants {
  const source = existsSync(ASSEMBLED) ? readFileSync(ASSEMBLED, 'utf8') : loadAgentSource();
  const program = [
    'import json, sys',
    'ns = {"__name__": "wand_agent"}',
    'exec(compile(sys.stdin.read(), "agent.py", "exec"), ns)',
    'print(json.dumps({k: ns[k] for k in ("MIN_RUN_SECONDS", "REPORTED_ENV", "ERROR_CODES")}))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', program], { input: source, encoding: 'utf8' })) as AgentConstants;
}

describe('the contract between the CLI and the assembled agent', () => {
  const agent = agentConstants();

  it('agrees on how long injected code may run once started', () => {
    expect(agent.MIN_RUN_SECONDS).toBe(MIN_RUN_SECONDS);
  });

  it('agrees on the environment variables reported', () => {
    expect(agent.REPORTED_ENV).toEqual([...REPORTED_ENV]);
  });

  it('agrees on the error codes', () => {
    expect([...agent.ERROR_CODES].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });
});
