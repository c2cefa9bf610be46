import { execFileSync, spawn, type ChildProcess } from 'child_process';
import { mkdirSync, symlinkSync } from 'fs';
import * as path from 'path';
import { createInterface } from 'readline';
import { SESSION_BOOTSTRAP, type SessionEvent } from '../../../src/agent/contract';
import { loadAgentSource } from '../../../src/session/agent-runner';
import { AgentSessionEnded, openAgentSession, type AgentSession, type WatchChange } from '../../../src/session/agent-session';
import { Forbidden, PodNotRunning, Timeout } from '../../../src/kube/errors';
import { AgentError, NoPython } from '../../../src/session/errors';
import { createKubectl, type Kubectl } from '../../../src/kube/kubectl';
import { FakeKubectl, FakeRule, fakeKubectl } from '../kube/fake-kubectl';

// The real agent.py, run on this machine by the fake kubectl's runLocal rule (host Python is
// enough for list and watch; injection needs 3.14 and is covered by test/unit/agent).
const TARGET = { namespace: 'shop', pod: 'web-1', container: 'app', containers: ['app', 'sidecar'] };
const RUN_LOCAL: FakeRule = { when: ['exec', '--', 'python3', '-c'], runLocal: true };
const AGENT_SOURCE = loadAgentSource();

// A manager that restarts its worker 0.3 s after it died; prints "worker PID" for each start.
const SUPERVISOR = `
import subprocess, sys, time
while True:
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "wand-test-worker"],
                              stdout=subprocess.DEVNULL)
    print("worker", worker.pid, flush=True)
    worker.wait()
    time.sleep(0.3)
`;

let fake: FakeKubectl;
const sessions: AgentSession[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
  for (const child of children.splice(0)) process.kill(-child.pid!, 'SIGKILL');
  fake?.cleanup();
});

function setup(rules: FakeRule[]): Kubectl {
  fake = fakeKubectl(rules);
  return createKubectl({ context: 'ctx1' }, { env: fake.env });
}

async function open(kubectl: Kubectl, onEvent?: (event: SessionEvent) => void): Promise<AgentSession> {
  const session = await openAgentSession(kubectl, TARGET, { agentSource: AGENT_SOURCE, ...(onEvent ? { onEvent } : {}) });
  sessions.push(session);
  return session;
}

/** Starts SUPERVISOR; `workers` yields the pid of each worker it starts. */
function supervisor(): { pid: number; workers: AsyncIterator<number> } {
  // its own process group, so that afterEach ends its workers too
  const child = spawn('python3', ['-c', SUPERVISOR], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  children.push(child);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const workers: AsyncIterator<number> = {
    next: async () => {
      const line = await lines.next();
      return line.done ? line : { done: false, value: Number(line.value.split(' ')[1]) };
    },
  };
  return { pid: child.pid!, workers };
}

async function nextWorker(workers: AsyncIterator<number>): Promise<number> {
  const next = await workers.next();
  if (next.done) throw new Error('the supervisor ended');
  return next.value;
}

function waitFor<T>(what: string, find: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      const found = find();
      if (found !== undefined) resolve(found);
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(poll, 10);
    };
    poll();
  });
}

const livePids = (change: WatchChange) =>
  change.event === 'processes' ? change.processes.filter((p) => p.argv.length > 0).map((p) => p.pid) : [];

describe('openAgentSession (the real agent over a fake kubectl exec)', () => {
  it('serves concurrent requests over one exec started with the bootstrap', async () => {
    const kubectl = setup([RUN_LOCAL]);
    const session = await open(kubectl);
    expect(fake.calls()).toEqual([
      ['--context', 'ctx1', 'exec', '-i', 'web-1', '-c', 'app', '-n', 'shop', '--', 'python3', '-c', SESSION_BOOTSTRAP],
    ]);
    expect(session.agentPython).toMatch(/^3\.\d+\.\d+$/);

    const order: string[] = [];
    const stackEvents: string[] = [];
    const slow = session.request({ op: 'list', sampleSeconds: 0.5 }).then((r) => (order.push('slow'), r));
    const fast = session.request({ op: 'list', sampleSeconds: 0 }).then((r) => (order.push('fast'), r));
    const failing = session.request({ op: 'stack', pid: 999_999_999 }, (e) => stackEvents.push(e.event)).catch((e: unknown) => e);
    const [slowList, fastList, error] = await Promise.all([slow, fast, failing]);
    expect(order).toEqual(['fast', 'slow']);
    expect(slowList.op).toBe('list');
    expect(new Set(fastList.processes.map((p) => p.cpuPercent))).toEqual(new Set([0]));
    expect(error).toBeInstanceOf(AgentError);
    expect(error).toMatchObject({ code: 'no-such-process' });
    expect(stackEvents).toEqual(['error']);
    expect(kubectl.calls).toBe(1);

    await session.close();
    await expect(session.closed).resolves.toEqual({});
    await expect(session.request({ op: 'list', sampleSeconds: 0 })).rejects.toBeInstanceOf(AgentSessionEnded);
    expect(await session.watch([1], () => undefined)).toBe(false);
  });

  it('follows a worker that exits and its replacement on the same exec', async () => {
    const kubectl = setup([RUN_LOCAL]);
    const session = await open(kubectl);
    const manager = supervisor();
    const worker = await nextWorker(manager.workers);
    const changes: WatchChange[] = [];
    await expect(session.watch([worker, manager.pid], (change) => changes.push(change))).resolves.toBe(true);

    const killedAt = Date.now();
    process.kill(worker, 'SIGKILL');
    const replacement = await nextWorker(manager.workers);
    const startedAt = Date.now();
    const shown = await waitFor('the new worker', () => changes.find((c) => livePids(c).includes(replacement)));
    const shownAt = Date.now();
    expect(changes[0]).toEqual({ event: 'exited', id: expect.any(Number), pids: [worker] });
    expect(changes[1]?.event).toBe('processes');
    expect(livePids(changes[1]!)).not.toContain(worker);
    expect(livePids(shown)).toContain(manager.pid);
    expect(shownAt - startedAt).toBeLessThan(1000);
    expect(shownAt - killedAt).toBeLessThan(2000);
    expect(kubectl.calls).toBe(1);

    // a new watch replaces the old one: the old watch's events stop
    const replaced: WatchChange[] = [];
    await session.watch([replacement], (change) => replaced.push(change));
    const before = changes.length;
    process.kill(replacement, 'SIGKILL');
    await waitFor('exited', () => replaced.find((c) => c.event === 'exited'));
    expect(changes.length).toBe(before);
  });

  it('reports an agent that went away, and rejects what was pending', async () => {
    const kubectl = setup([RUN_LOCAL]);
    let agentPid = 0;
    const session = await open(kubectl, (event) => {
      if (event.event === 'ready') agentPid = event.pid;
    });
    const pending = session.request({ op: 'list', sampleSeconds: 5 }).catch((e: unknown) => e);
    process.kill(agentPid, 'SIGKILL');
    const { error } = await session.closed;
    expect(error).toBeInstanceOf(AgentSessionEnded);
    expect(error?.remedy).toBe('the pod may have been deleted or restarted: check it with kubectl get pod web-1 -n shop');
    expect(await pending).toBe(error);
  });

  it("maps kubectl's own error when the exec ends (pod deleted)", async () => {
    const ready = '{"event":"ready","id":0,"agentPython":"3.14.0","pid":7}\n';
    const stopped = 'error: Internal error occurred: error executing command in container: container not running\n';
    const kubectl = setup([{ when: ['exec'], steps: [{ stdout: ready }, { delayMs: 100, stderr: stopped }], exit: 1 }]);
    const session = await open(kubectl);
    const { error } = await session.closed;
    expect(error).toBeInstanceOf(PodNotRunning);
    expect(error?.message).toBe('pod "web-1" is not running');
  });

  it('close() kills a kubectl that does not end after its stdin ended', async () => {
    const kubectl = setup([{ when: ['exec'], steps: [{ stdout: '{"event":"ready","id":0,"agentPython":"3.14.0","pid":7}\n' }], hang: true }]);
    const session = await open(kubectl);
    const begun = Date.now();
    await session.close();
    expect(Date.now() - begun).toBeGreaterThanOrEqual(1900);
    await expect(session.closed).resolves.toEqual({});
  });

  it('falls back to python when the image has no python3', async () => {
    const kubectl = setup([
      {
        when: ['--', 'python3', '-c'],
        steps: [{ stderr: 'OCI runtime exec failed: exec failed: unable to start container process: exec: "python3": executable file not found in $PATH: unknown\n' }],
        exit: 1,
      },
      { when: ['--', 'python', '-c'], runLocal: true },
    ]);
    const bin = fake.file('bin');
    mkdirSync(bin);
    const python3 = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
    symlinkSync(python3, path.join(bin, 'python'));
    fake.env.PATH = `${bin}${path.delimiter}${fake.env.PATH ?? ''}`;
    const session = await open(kubectl);
    expect(fake.calls().map((args) => args.slice(-3, -1))).toEqual([
      ['python3', '-c'],
      ['python', '-c'],
    ]);
    expect((await session.request({ op: 'list', sampleSeconds: 0 })).op).toBe('list');
  });

  it('reports NoPython when neither interpreter exists', async () => {
    const missing = (name: string): FakeRule => ({
      when: ['--', name, '-c'],
      steps: [{ stderr: `exec: "${name}": executable file not found in $PATH: unknown\n` }],
      exit: 1,
    });
    const kubectl = setup([missing('python3'), missing('python')]);
    await expect(open(kubectl)).rejects.toBeInstanceOf(NoPython);
    expect(kubectl.calls).toBe(2);
  });

  it('maps a kubectl failure at start without retrying', async () => {
    const kubectl = setup([
      {
        when: ['exec'],
        steps: [{ stderr: 'Error from server (Forbidden): pods "web-1" is forbidden: User "jane" cannot create resource "pods/exec" in API group "" in the namespace "shop"\n' }],
        exit: 1,
      },
    ]);
    await expect(open(kubectl)).rejects.toBeInstanceOf(Forbidden);
    expect(kubectl.calls).toBe(1);
  });

  it('gives up when the agent does not start in time', async () => {
    const kubectl = setup([{ when: ['exec'], hang: true }]);
    const begun = Date.now();
    const error = await openAgentSession(kubectl, TARGET, { agentSource: AGENT_SOURCE, startTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Timeout);
    expect((error as Timeout).remedy).toContain('the agent did not start in time');
    expect(Date.now() - begun).toBeLessThan(5000);
  });
});
