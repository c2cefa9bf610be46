import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import type { AgentEvent, ListRequest, ListResult } from '../../../src/agent/contract';
import { assembleAgent } from '../../../src/agent/assemble';
import {
  agentProgram,
  agentSourcePath,
  isMissingInterpreter,
  loadAgentSource,
  runAgent,
} from '../../../src/session/agent-runner';
import { ContainerNotFound, Forbidden, Timeout } from '../../../src/kube/errors';
import { AgentError, NoPython } from '../../../src/session/errors';
import { createKubectl } from '../../../src/kube/kubectl';
import { FakeKubectl, FakeRule, fakeKubectl } from '../kube/fake-kubectl';

const TARGET = { namespace: 'shop', pod: 'web-1', container: 'app', containers: ['app', 'sidecar'] };
const LIST: ListRequest = { op: 'list' };
const AGENT = 'def main(b64):\n    pass\n';
const RESULT: ListResult = {
  op: 'list',
  agentPython: '3.14.0',
  capabilities: { uid: 0, sysPtrace: true, yamaPtraceScope: 1 },
  processes: [],
};
const line = (event: AgentEvent) => `${JSON.stringify(event)}\n`;

// Real wordings of "python3 is not in this image" (containerd, docker/cri-dockerd, crun).
const CONTAINERD_NO_PYTHON3 =
  'Error from server (InternalError): Internal error occurred: error executing command in container: failed to exec in container: ' +
  'failed to start exec "fc7ef1a745ffd71b0d28376f80ab706bf896fb8e13c501e66a2889286eda97f9": OCI runtime exec failed: exec failed: ' +
  'unable to start container process: exec: "python3": executable file not found in $PATH: unknown\n';
const containerdNoPython = CONTAINERD_NO_PYTHON3.replace('"python3"', '"python"');
const DOCKER_NO_PYTHON3 =
  'OCI runtime exec failed: exec failed: container_linux.go:380: starting container process caused: exec: "python3": executable file not found in $PATH: unknown\n';

let fake: FakeKubectl;
afterEach(() => fake?.cleanup());

function setup(rules: FakeRule[]) {
  fake = fakeKubectl(rules);
  return createKubectl({ context: 'ctx1' }, { env: fake.env });
}

describe('runAgent', () => {
  it('streams the agent and its request into python3 over kubectl exec -i', async () => {
    const kubectl = setup([
      { when: ['exec', '--', 'python3', '-'], stdinFile: 'stdin', steps: [{ stdout: line({ event: 'result', result: RESULT }) }] },
    ]);
    const result = await runAgent(kubectl, TARGET, LIST, { agentSource: AGENT, timeoutMs: 5000 });
    expect(result).toEqual(RESULT);
    expect(fake.calls()).toEqual([['--context', 'ctx1', 'exec', '-i', 'web-1', '-c', 'app', '-n', 'shop', '--', 'python3', '-']]);
    const stdin = readFileSync(fake.file('stdin'), 'utf8');
    expect(stdin).toBe(agentProgram(AGENT, LIST));
    const m = /^def main\(b64\):\n {4}pass\n\nmain\("([A-Za-z0-9+/=]+)"\)\n$/.exec(stdin);
    expect(m).not.toBeNull();
    expect(JSON.parse(Buffer.from(m![1]!, 'base64').toString('utf8'))).toEqual(LIST);
  });

  it('delivers events as they arrive, before the result', async () => {
    const kubectl = setup([
      {
        when: ['exec'],
        readStdin: true,
        steps: [
          { stdout: line({ event: 'started', pid: 7 }) },
          { stdout: line({ event: 'waiting', pid: 7, seconds: 1, blockedIn: 'select()' }), delayMs: 20 },
          { stdout: line({ event: 'result', result: RESULT }), delayMs: 400 },
        ],
      },
    ]);
    const seenAt: Record<string, number> = {};
    await runAgent(kubectl, TARGET, LIST, {
      agentSource: AGENT,
      timeoutMs: 5000,
      onEvent: (event) => (seenAt[event.event] = Date.now()),
    });
    expect(Object.keys(seenAt)).toEqual(['started', 'waiting', 'result']);
    // the result came 400 ms after `waiting`: `waiting` was delivered when it was printed, not at exit
    expect(seenAt.result! - seenAt.waiting!).toBeGreaterThanOrEqual(300);
  });

  it("ignores stdout lines that are not the agent's events", async () => {
    const kubectl = setup([
      { when: ['exec'], readStdin: true, steps: [{ stdout: 'hello from sitecustomize\n{not json\n' + line({ event: 'result', result: RESULT }) }] },
    ]);
    await expect(runAgent(kubectl, TARGET, LIST, { agentSource: AGENT, timeoutMs: 5000 })).resolves.toEqual(RESULT);
  });

  it("rejects with the agent's error event", async () => {
    const stack = [{ threadId: 1, isMain: true, frames: [{ function: 'select', file: 'selectors.py', line: 468 }] }];
    const kubectl = setup([
      {
        when: ['exec'],
        readStdin: true,
        steps: [
          { stdout: line({ event: 'error', code: 'timeout', message: 'main thread never ran the script', stack, blockedIn: 'select()' }) },
          { stderr: 'command terminated with exit code 1\n' },
        ],
        exit: 1,
      },
    ]);
    const error = await runAgent(kubectl, TARGET, LIST, { agentSource: AGENT, timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect(error).toMatchObject({
      code: 'timeout',
      message: 'main thread never ran the script',
      extra: { threads: stack, blockedIn: 'select()' },
      exitCode: 1,
    });
  });

  it.each([
    ['containerd', [{ stderr: CONTAINERD_NO_PYTHON3 }], 1],
    ['docker', [{ stdout: DOCKER_NO_PYTHON3 }, { stderr: 'command terminated with exit code 126\n' }], 126],
    ['crun', [{ stderr: 'crun: executable file `python3` not found in $PATH: No such file or directory\ncommand terminated with exit code 127\n' }], 127],
    ['a bare exit 127', [{ stderr: 'command terminated with exit code 127\n' }], 127],
  ])('retries with `python` when python3 is missing (%s)', async (_runtime, steps, exit) => {
    const kubectl = setup([
      { when: ['--', 'python3', '-'], steps, exit },
      { when: ['--', 'python', '-'], readStdin: true, steps: [{ stdout: line({ event: 'result', result: RESULT }) }] },
    ]);
    await expect(runAgent(kubectl, TARGET, LIST, { agentSource: AGENT, timeoutMs: 5000 })).resolves.toEqual(RESULT);
    expect(fake.calls().map((args) => args.slice(-2))).toEqual([
      ['python3', '-'],
      ['python', '-'],
    ]);
  });

  it('reports NoPython when neither interpreter exists', async () => {
    const kubectl = setup([
      { when: ['--', 'python3', '-'], steps: [{ stderr: CONTAINERD_NO_PYTHON3 }], exit: 1 },
      { when: ['--', 'python', '-'], steps: [{ stderr: containerdNoPython }], exit: 1 },
    ]);
    const error = await runAgent(kubectl, TARGET, LIST, { agentSource: AGENT, timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoPython);
    expect(error).toMatchObject({
      message: 'no Python in container app of pod web-1 (neither python3 nor python is on its PATH)',
      remedy: 'choose the container that runs your Python app with -c NAME',
    });
    expect(kubectl.calls).toBe(2);
  });

  it('maps kubectl failures without retrying', async () => {
    const kubectl = setup([
      {
        when: ['exec'],
        steps: [
          {
            stderr:
              'Error from server (Forbidden): pods "web-1" is forbidden: User "jane" cannot create resource "pods/exec" in API group "" in the namespace "shop"\n',
          },
        ],
        exit: 1,
      },
    ]);
    // A large agent, as the real one is: kubectl fails before reading it.
    const agentSource = `# ${'x'.repeat(512 * 1024)}\n${AGENT}`;
    const error = await runAgent(kubectl, TARGET, LIST, { agentSource, timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Forbidden);
    expect((error as Forbidden).remedy).toContain('resources: ["pods/exec"], verbs: ["create"]');
    expect(kubectl.calls).toBe(1);
  });

  it('names the containers the pod has when -c is wrong', async () => {
    const kubectl = setup([
      { when: ['exec'], steps: [{ stderr: 'error: unable to upgrade connection: container not found ("app")\n' }], exit: 1 },
    ]);
    const error = await runAgent(kubectl, TARGET, LIST, { agentSource: AGENT, timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContainerNotFound);
    expect((error as Error).message).toBe('container "app" not found in pod "web-1" (it has: app, sidecar)');
  });

  it('reports an agent that crashed without an event', async () => {
    const kubectl = setup([
      {
        when: ['exec'],
        readStdin: true,
        steps: [
          {
            stderr:
              'Traceback (most recent call last):\n  File "<stdin>", line 12, in <module>\nSyntaxError: invalid syntax\ncommand terminated with exit code 1\n',
          },
        ],
        exit: 1,
      },
    ]);
    const error = await runAgent(kubectl, TARGET, LIST, { agentSource: AGENT, timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect(error).toMatchObject({ code: 'internal', message: 'agent exited with code 1: SyntaxError: invalid syntax' });
    expect(kubectl.calls).toBe(1);
  });

  it('reports an agent that ended without a result', async () => {
    const kubectl = setup([{ when: ['exec'], readStdin: true, steps: [{ stdout: line({ event: 'started', pid: 1 }) }] }]);
    await expect(runAgent(kubectl, TARGET, LIST, { agentSource: AGENT, timeoutMs: 5000 })).rejects.toMatchObject({
      name: 'AgentError',
      code: 'internal',
      message: 'agent exited without a result',
    });
  });

  it('rejects a result for another operation', async () => {
    const kubectl = setup([
      {
        when: ['exec'],
        readStdin: true,
        steps: [{ stdout: line({ event: 'result', result: { op: 'stack', pid: 1, threads: [] } }) }],
      },
    ]);
    await expect(runAgent(kubectl, TARGET, LIST, { agentSource: AGENT, timeoutMs: 5000 })).rejects.toMatchObject({
      code: 'version-mismatch',
    });
  });

  it('gives up after timeoutMs', async () => {
    const kubectl = setup([{ when: ['exec'], readStdin: true, hang: true }]);
    const started = Date.now();
    const error = await runAgent(kubectl, TARGET, LIST, { agentSource: AGENT, timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Timeout);
    expect((error as Timeout).remedy).toContain('the agent did not answer in time');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('rejects with what a throwing onEvent threw, without crashing the process', async () => {
    const kubectl = setup([
      { when: ['exec'], readStdin: true, steps: [{ stdout: line({ event: 'started', pid: 7 }) + line({ event: 'result', result: RESULT }) }] },
    ]);
    const boom = new Error('renderer broke');
    const onEvent = () => {
      throw boom;
    };
    await expect(runAgent(kubectl, TARGET, LIST, { agentSource: AGENT, timeoutMs: 5000, onEvent })).rejects.toBe(boom);
  });
});

describe('isMissingInterpreter', () => {
  it('does not mistake a Python failure for a missing interpreter', () => {
    expect(isMissingInterpreter('python3', 127, 'Traceback…\nNameError: x\ncommand terminated with exit code 127\n', '', 0)).toBe(false);
    expect(isMissingInterpreter('python3', 1, 'error: unable to upgrade connection: pod does not exist\n', '', 0)).toBe(false);
    expect(isMissingInterpreter('python3', 1, CONTAINERD_NO_PYTHON3, '', 1)).toBe(false);
  });
  it('reads the missing name, not another one', () => {
    expect(isMissingInterpreter('python', 1, CONTAINERD_NO_PYTHON3, '', 0)).toBe(false);
    expect(isMissingInterpreter('python3', 1, CONTAINERD_NO_PYTHON3, '', 0)).toBe(true);
  });
  it('knows the stat wording for absolute paths', () => {
    const stderr =
      'OCI runtime exec failed: exec failed: container_linux.go:348: starting container process caused "exec: \\"python3\\": stat python3: no such file or directory": unknown\n';
    expect(isMissingInterpreter('python3', 126, stderr, '', 0)).toBe(true);
  });
});

describe('agent source', () => {
  it('is agent.py next to this module: build/src/agent/ once built; from src/ the modules are assembled', () => {
    expect(agentSourcePath()).toBe(path.resolve(__dirname, '../../../src/agent/agent.py'));
    expect(existsSync(agentSourcePath())).toBe(false);
    expect(loadAgentSource()).toBe(assembleAgent());
  });

  it('runs the real agent end to end (exec replaced by a local python3)', async () => {
    const kubectl = setup([{ when: ['exec', '--', 'python3', '-'], runLocal: true }]);
    const events: string[] = [];
    const result = await runAgent(kubectl, TARGET, LIST, {
      agentSource: loadAgentSource(),
      timeoutMs: 15_000,
      onEvent: (event) => events.push(event.event),
    });
    expect(result.op).toBe('list');
    expect(Array.isArray(result.processes)).toBe(true);
    expect(events[events.length - 1]).toBe('result');
  });
});
