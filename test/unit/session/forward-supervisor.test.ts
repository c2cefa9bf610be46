/** ForwardSupervisor against the fake kubectl: its port-forwards are real children the test kills. */
import { existsSync, readFileSync } from 'node:fs';
import { createKubectl, type Kubectl } from '../../../src/kube/kubectl';
import { ForwardSupervisor } from '../../../src/session/forward-supervisor';
import { fakeKubectl, type FakeKubectl, type FakeRule } from '../kube/fake-kubectl';

jest.setTimeout(30_000);

const SPEC = { namespace: 'shop', pod: 'web-1', localPort: 0, remotePort: 5679 };
const LISTENING: FakeRule = { when: ['port-forward'], steps: [{ stdout: 'Forwarding from 127.0.0.1:41234 -> 5679\n' }], hang: true, pidFile: 'forwards' };
const NOT_RUNNING: FakeRule = {
  when: ['port-forward'],
  steps: [{ stderr: 'error: unable to forward port because pod is not running. Current status=Pending\n' }],
  exit: 1,
};

let fake: FakeKubectl;
let supervisor: ForwardSupervisor | undefined;

afterEach(async () => {
  await supervisor?.stop();
  supervisor = undefined;
  fake?.cleanup();
});

function setup(rules: FakeRule[]): Kubectl {
  fake = fakeKubectl(rules);
  return createKubectl({}, { env: fake.env });
}

const forwards = () => (existsSync(fake.file('forwards')) ? readFileSync(fake.file('forwards'), 'utf8').split('\n').filter(Boolean).map(Number) : []);
const forwardCalls = () => fake.calls().filter((args) => args.includes('port-forward'));

function settled<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  return { promise: new Promise<T>((r) => (resolve = r)), resolve };
}

describe('ForwardSupervisor', () => {
  it('restarts a dropped forward on the local port kubectl picked the first time', async () => {
    const kubectl = setup([LISTENING]);
    const restored = settled<[number, string]>();
    supervisor = await ForwardSupervisor.start(kubectl, SPEC, () => Promise.resolve(true), { onRestored: (port, cause) => restored.resolve([port, cause]) });
    expect(supervisor.localPort).toBe(41234);
    process.kill(forwards()[0]!, 'SIGKILL');
    const [port] = await restored.promise;
    expect(port).toBe(41234);
    expect(forwardCalls().map((args) => args.at(-1))).toEqual([':5679', '41234:5679']);
  });

  it('tells the owner, without restarting, when the pod is gone', async () => {
    const kubectl = setup([LISTENING]);
    const lost = settled<unknown>();
    supervisor = await ForwardSupervisor.start(kubectl, SPEC, () => Promise.resolve(false), { onLost: (cause) => lost.resolve(cause) });
    process.kill(forwards()[0]!, 'SIGKILL');
    await lost.promise;
    expect(forwardCalls()).toHaveLength(1);
  });

  it('gives up, with kubectl\'s reason, when restarts keep failing', async () => {
    const kubectl = setup([LISTENING]);
    const lost = settled<unknown>();
    supervisor = await ForwardSupervisor.start(kubectl, SPEC, () => Promise.resolve(true), { onLost: (cause) => lost.resolve(cause) });
    fake.setRules([NOT_RUNNING]);
    process.kill(forwards()[0]!, 'SIGKILL');
    expect(await lost.promise).toMatchObject({ name: 'PodNotRunning' });
    expect(forwardCalls()).toHaveLength(6); // the first, then 5 attempts
  });

  it('stop() ends the forward and nothing restarts it', async () => {
    const kubectl = setup([LISTENING]);
    const events: string[] = [];
    supervisor = await ForwardSupervisor.start(kubectl, SPEC, () => Promise.resolve(true), {
      onRestored: () => events.push('restored'),
      onLost: () => events.push('lost'),
    });
    await supervisor.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(() => process.kill(forwards()[0]!, 0)).toThrow();
    expect(events).toEqual([]);
    expect(forwardCalls()).toHaveLength(1);
  });
});
