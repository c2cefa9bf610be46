import { KubectlFailed, LocalPortBusy, PodNotRunning, Timeout } from '../../../src/kube/errors';
import { createKubectl } from '../../../src/kube/kubectl';
import { portForwardArgs, startPortForward } from '../../../src/kube/port-forward';
import { FakeKubectl, FakeRule, fakeKubectl } from './fake-kubectl';

const SPEC = { namespace: 'shop', pod: 'web-1', localPort: 0, remotePort: 5678 };

let fake: FakeKubectl;
afterEach(() => fake?.cleanup());

function setup(rules: FakeRule[]) {
  fake = fakeKubectl(rules);
  return createKubectl({ context: 'ctx1' }, { env: fake.env });
}

describe('portForwardArgs', () => {
  it('binds 127.0.0.1 only and lets kubectl pick the local port for 0', () => {
    expect(portForwardArgs(SPEC)).toEqual(['port-forward', '--address', '127.0.0.1', '-n', 'shop', 'pod/web-1', ':5678']);
    expect(portForwardArgs({ ...SPEC, localPort: 5679 })).toContain('5679:5678');
  });
});

describe('startPortForward', () => {
  it('resolves once kubectl says it forwards, with the port it picked', async () => {
    const kubectl = setup([
      {
        when: ['port-forward'],
        steps: [
          { stdout: 'Forwarding from 127.0.0.1:43123 -> 5678\n', delayMs: 150 },
          { stdout: 'Handling connection for 43123\n'.repeat(50), delayMs: 50 },
        ],
        hang: true,
      },
    ]);
    const started = Date.now();
    const forward = await startPortForward(kubectl, SPEC);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(forward.localPort).toBe(43123);
    expect(forward.remotePort).toBe(5678);
    expect(fake.calls()).toEqual([
      ['--context', 'ctx1', 'port-forward', '--address', '127.0.0.1', '-n', 'shop', 'pod/web-1', ':5678'],
    ]);
    await forward.stop();
    const ended = await forward.exited;
    expect(ended).toMatchObject({ stopped: true, signal: 'SIGTERM' });
    expect(ended.error).toBeUndefined();
  });

  it('asks for the given local port', async () => {
    const kubectl = setup([
      { when: ['port-forward', '5679:5678'], steps: [{ stdout: 'Forwarding from 127.0.0.1:5679 -> 5678\n' }], hang: true },
    ]);
    const forward = await startPortForward(kubectl, { ...SPEC, localPort: 5679 });
    expect(forward.localPort).toBe(5679);
    await forward.stop();
  });

  it('rejects with LocalPortBusy when the local port is taken', async () => {
    const kubectl = setup([
      {
        when: ['port-forward'],
        steps: [
          {
            stderr:
              'Unable to listen on port 5679: Listeners failed to create with the following errors: [unable to create listener: Error listen tcp4 127.0.0.1:5679: bind: address already in use]\n' +
              'error: unable to listen on any of the requested ports: [{5679 5678}]\n',
          },
        ],
        exit: 1,
      },
    ]);
    const error = await startPortForward(kubectl, { ...SPEC, localPort: 5679 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LocalPortBusy);
    expect(error).toMatchObject({
      port: 5679,
      message: 'local port 5679 is already in use',
      remedy: 'choose another with --local-port N, or --local-port 0 to let kubectl pick a free one',
    });
  });

  it("rejects with kubectl's reason when it exits early", async () => {
    const kubectl = setup([
      {
        when: ['port-forward'],
        steps: [{ stderr: 'error: unable to forward port because pod is not running. Current status=Pending\n' }],
        exit: 1,
      },
    ]);
    const error = await startPortForward(kubectl, SPEC).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodNotRunning);
    expect((error as Error).message).toBe('pod "web-1" is Pending, not Running');
  });

  it('gives up and kills kubectl when it never listens', async () => {
    const kubectl = setup([{ when: ['port-forward'], steps: [{ stderr: 'still thinking\n' }], hang: true }]);
    const error = await startPortForward(kubectl, SPEC, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Timeout);
    expect(error).toMatchObject({ timeoutMs: 300, stderr: 'still thinking\n' });
  });

  it('reports through `exited` when the forward dies later', async () => {
    const kubectl = setup([
      {
        when: ['port-forward'],
        steps: [
          { stdout: 'Forwarding from 127.0.0.1:40000 -> 5678\n' },
          { stderr: 'E1125 13:30:00.000000   1 portforward.go:413] an error occurred forwarding 40000 -> 5678\n', delayMs: 100 },
          { stderr: 'error: lost connection to pod\n' },
        ],
        exit: 1,
      },
    ]);
    const forward = await startPortForward(kubectl, SPEC);
    const ended = await forward.exited;
    expect(ended.stopped).toBe(false);
    expect(ended.exitCode).toBe(1);
    expect(ended.error).toBeInstanceOf(KubectlFailed);
    expect(ended.error?.message).toBe('kubectl port-forward failed (exit 1): lost connection to pod');
    expect(forward.stderrTail()).toEqual([
      'E1125 13:30:00.000000   1 portforward.go:413] an error occurred forwarding 40000 -> 5678',
      'error: lost connection to pod',
    ]);
    await forward.stop(); // harmless after the exit
  });
});
