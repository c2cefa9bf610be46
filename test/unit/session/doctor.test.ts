import { canI } from '../../../src/session/doctor';
import { createKubectl } from '../../../src/kube/kubectl';
import { fakeKubectl, type FakeKubectl } from '../kube/fake-kubectl';

describe('canI', () => {
  let fake: FakeKubectl;
  afterEach(() => fake.cleanup());

  function kubectl(rules: Parameters<typeof fakeKubectl>[0]) {
    fake = fakeKubectl(rules);
    return createKubectl({}, { env: fake.env });
  }

  it('asks quietly, with the subresource, in the namespace', async () => {
    const k = kubectl([{ when: ['auth', 'can-i'], exit: 0 }]);
    expect(await canI(k, 'shop', 'create', 'pods', 'exec')).toEqual({ allowed: true });
    expect(fake.calls()).toEqual([['auth', 'can-i', 'create', 'pods', '--subresource', 'exec', '-n', 'shop', '--quiet']]);
  });

  it('exit 1 without output is "no"', async () => {
    const k = kubectl([{ when: ['auth', 'can-i'], exit: 1 }]);
    expect(await canI(k, 'shop', 'create', 'pods', 'portforward')).toEqual({ allowed: false });
  });

  it('a kubectl failure is a problem to report, not a "no"', async () => {
    const k = kubectl([{ when: ['auth', 'can-i'], steps: [{ stderr: 'The connection to the server 10.0.0.1:6443 was refused - did you specify the right host or port?\n' }], exit: 1 }]);
    expect(await canI(k, 'shop', 'get', 'pods')).toEqual({
      problem: { message: 'cannot reach the API server 10.0.0.1:6443: connection refused', remedy: expect.any(String) },
    });
  });
});
