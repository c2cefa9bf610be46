/**
 * Test helper for the engine: a pod served by the fake kubectl (../kube/fake-kubectl), whose agent
 * sessions run fixtures/fake_agent.py on this machine, whose port-forwards are fake children the
 * test can kill, and whose `get pod` answers as the scenario says.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ProcessRecord } from '../../../src/agent/contract';
import { createKubectl, type Kubectl } from '../../../src/kube/kubectl';
import type { Pod } from '../../../src/kube/types';
import { fakeKubectl, json, type FakeKubectl, type FakeRule } from '../kube/fake-kubectl';

export const FAKE_AGENT = readFileSync(path.join(__dirname, 'fixtures', 'fake_agent.py'), 'utf8');
export const PORT = 5679;

export function pod(name: string, uid: string): Pod {
  return {
    metadata: { name, namespace: 'shop', uid, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { containers: [{ name: 'app' }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  } as Pod;
}

/** Agents run locally; forwards say they listen and stay; `get pod` per pod (null: deleted). */
export function rules(pods: Record<string, Pod | null>): FakeRule[] {
  return [
    { when: ['exec', '--', 'python3', '-c'], runLocal: true },
    { when: ['port-forward'], steps: [{ stdout: `Forwarding from 127.0.0.1:${PORT} -> ${PORT}\n` }], hang: true, pidFile: 'forwards' },
    ...Object.entries(pods).map(([name, current]): FakeRule =>
      current
        ? { when: ['get', 'pod', name], steps: [json(current)] }
        : { when: ['get', 'pod', name], steps: [{ stderr: `Error from server (NotFound): pods "${name}" not found\n` }], exit: 1 },
    ),
  ];
}

export interface AgentScript {
  processes: ProcessRecord[];
  readyDelay?: number;
  /** -1: never answers */
  injectDelay?: number;
  injectError?: { code: string; message: string };
}

export interface FakePods {
  fake: FakeKubectl;
  kubectl: Kubectl;
  /** the requests the agents received, in order */
  requests(): Array<{ op: string; pid?: number; port?: number; pids?: number[] }>;
  /** pids of the port-forward children started so far */
  forwards(): number[];
  /** agents that saw the end of their stdin (closed cleanly) */
  closedAgents(): number;
  /** exec calls (agent sessions) so far */
  execs(): string[][];
  /** a control file of fake_agent.py (reload.json, exit) */
  control(name: string, content?: unknown): void;
  /** kills what a failed test left running, removes the scratch directory */
  cleanup(): void;
}

export function fakePods(pods: Record<string, Pod | null>, agent: AgentScript, extra: FakeRule[] = []): FakePods {
  const fake = fakeKubectl([...extra, ...rules(pods)]);
  const dir = path.dirname(fake.file('x'));
  writeFileSync(fake.file('agent.json'), JSON.stringify(agent));
  const lines = (name: string) => (existsSync(fake.file(name)) ? readFileSync(fake.file(name), 'utf8').split('\n').filter(Boolean) : []);
  const forwards = () => lines('forwards').map(Number);
  return {
    fake,
    kubectl: createKubectl({}, { env: { ...fake.env, FAKE_AGENT_DIR: dir } }),
    requests: () => lines('requests.jsonl').map((line) => JSON.parse(line) as { op: string }),
    forwards,
    closedAgents: () => readdirSync(dir).filter((f) => f.startsWith('closed-')).length,
    execs: () => fake.calls().filter((args) => args.includes('exec')),
    control: (name, content = '') => writeFileSync(fake.file(name), typeof content === 'string' ? content : JSON.stringify(content)),
    cleanup: () => {
      for (const pid of forwards()) if (alive(pid)) process.kill(pid, 'SIGKILL');
      fake.cleanup();
    },
  };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves with what `find` returns once it is neither undefined nor false. */
export function until<T>(what: string, find: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      const found = find();
      if (found !== undefined && found !== false) resolve(found);
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(poll, 20);
    };
    poll();
  });
}
