import { chooseContainer, choosePythonContainer } from '../../../src/session/containers';
import { ContainerNotFound } from '../../../src/kube/errors';
import type { Pod } from '../../../src/kube/types';

const pod = (containers: string[], annotations?: Record<string, string>): Pod => ({
  metadata: { name: 'web-1', ...(annotations ? { annotations } : {}) },
  spec: { containers: containers.map((name) => ({ name })) },
});

describe('chooseContainer', () => {
  it('takes -c when the pod has it', () => {
    expect(chooseContainer(pod(['app', 'sidecar']), 'sidecar')).toEqual({
      kind: 'chosen',
      container: 'sidecar',
      reason: 'requested',
      note: 'container "sidecar" (-c)',
    });
  });

  it('refuses a -c the pod does not have, listing the names', () => {
    let error: unknown;
    try {
      chooseContainer(pod(['app', 'istio-proxy']), 'ap');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ContainerNotFound);
    expect(error).toMatchObject({
      container: 'ap',
      pod: 'web-1',
      available: ['app', 'istio-proxy'],
      message: 'container "ap" not found in pod "web-1" (it has: app, istio-proxy)',
      remedy: 'pick one with -c: app, istio-proxy',
    });
  });

  it("follows kubectl's default-container annotation", () => {
    const choice = chooseContainer(pod(['istio-proxy', 'app'], { 'kubectl.kubernetes.io/default-container': 'app' }));
    expect(choice).toMatchObject({ kind: 'chosen', container: 'app', reason: 'annotation' });
  });

  it('ignores an annotation naming no container, as kubectl does', () => {
    const choice = chooseContainer(pod(['a', 'b'], { 'kubectl.kubernetes.io/default-container': 'gone' }));
    expect(choice).toEqual({ kind: 'ask-agent', candidates: ['a', 'b'] });
  });

  it('takes the only container', () => {
    expect(chooseContainer(pod(['app']))).toMatchObject({ kind: 'chosen', container: 'app', reason: 'only' });
  });

  it('asks the agent when several containers leave it open', () => {
    expect(chooseContainer(pod(['app', 'istio-proxy', 'log-shipper']))).toEqual({
      kind: 'ask-agent',
      candidates: ['app', 'istio-proxy', 'log-shipper'],
    });
  });
});

describe('choosePythonContainer', () => {
  const py = { isPython: true };
  const other = { isPython: false };

  it('picks the one container running Python and says which', () => {
    expect(
      choosePythonContainer([
        { container: 'istio-proxy', processes: [other, other] },
        { container: 'app', processes: [other, py, py] },
      ]),
    ).toEqual({
      kind: 'chosen',
      container: 'app',
      reason: 'python',
      note: 'container "app" (the only one running Python: 2 processes; istio-proxy: no Python, app: 2 Python)',
    });
  });

  it('is ambiguous when several run Python', () => {
    expect(
      choosePythonContainer([
        { container: 'a', processes: [py] },
        { container: 'b', processes: [py] },
        { container: 'c', processes: [] },
      ]),
    ).toMatchObject({ kind: 'ambiguous', candidates: ['a', 'b'], note: expect.stringContaining('pick one with -c') });
  });

  it('says when none does', () => {
    expect(choosePythonContainer([{ container: 'a', processes: [other] }])).toEqual({
      kind: 'none',
      candidates: ['a'],
      note: 'no container runs Python (a: no Python)',
    });
  });
});
