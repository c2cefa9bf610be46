import { hostname } from 'os';
import { loadAgentSource } from '../../../src/session/agent-runner';
import { EarlySession, expectedHostname, kubectlDefaultContainer, landedIn } from '../../../src/session/early-session';
import { Timeout } from '../../../src/kube/errors';
import { createKubectl, type Kubectl } from '../../../src/kube/kubectl';
import type { Target } from '../../../src/session/targets';
import type { Pod } from '../../../src/kube/types';
import { FakeKubectl, FakeRule, fakeKubectl } from '../kube/fake-kubectl';

function pod(name: string, extra: { hostname?: string; containers?: string[]; annotation?: string } = {}): Pod {
  return {
    metadata: {
      name,
      namespace: 'shop',
      ...(extra.annotation ? { annotations: { 'kubectl.kubernetes.io/default-container': extra.annotation } } : {}),
    },
    spec: { containers: (extra.containers ?? ['app']).map((n) => ({ name: n })), ...(extra.hostname ? { hostname: extra.hostname } : {}) },
    status: { phase: 'Running' },
  } as Pod;
}

describe('where an exec by TYPE/NAME landed', () => {
  it("names a pod's host as Kubernetes does", () => {
    expect(expectedHostname(pod('web-1'))).toBe('web-1');
    expect(expectedHostname(pod('web-1', { hostname: 'db-0' }))).toBe('db-0');
    // 63 characters at most, without a trailing dash or dot
    expect(expectedHostname(pod(`${'a'.repeat(62)}-bcd`))).toBe('a'.repeat(62));
  });

  it("takes kubectl's default container: the annotation (if it exists), else the first", () => {
    expect(kubectlDefaultContainer(pod('p', { containers: ['proxy', 'app'] }))).toBe('proxy');
    expect(kubectlDefaultContainer(pod('p', { containers: ['proxy', 'app'], annotation: 'app' }))).toBe('app');
    expect(kubectlDefaultContainer(pod('p', { containers: ['proxy', 'app'], annotation: 'gone' }))).toBe('proxy');
  });

  it('accepts a host name only when it names exactly the chosen pod', () => {
    const a = pod('web-a');
    const b = pod('web-b');
    expect(landedIn('web-a', a, [a, b])).toBe(true);
    expect(landedIn('web-a.shop.svc.cluster.local', a, [a, b])).toBe(true);
    expect(landedIn('web-b', a, [a, b])).toBe(false);
    // a hostname shared by the template's pods says nothing
    const c = pod('web-c', { hostname: 'web' });
    const d = pod('web-d', { hostname: 'web' });
    expect(landedIn('web', c, [c, d])).toBe(false);
  });
});

describe('EarlySession', () => {
  const SERVICE: Target = { kind: 'service', name: 'api' };
  let fake: FakeKubectl;
  const opened: EarlySession[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((early) => early.release()));
    fake?.cleanup();
  });

  function setup(rules: FakeRule[]): Kubectl {
    fake = fakeKubectl(rules);
    return createKubectl({ context: 'ctx1' }, { env: fake.env });
  }

  it('execs by TYPE/NAME without -c, and lists at once', async () => {
    // the real agent, run on this machine: its host name is this machine's
    const kubectl = setup([{ when: ['exec', 'services/api', '--', 'python3', '-c'], runLocal: true }]);
    const early = EarlySession.open(kubectl, 'shop', SERVICE, { agentSource: loadAgentSource() })!;
    const here = pod(hostname());
    const claimed = await early.claim(here, [here], 'app');
    opened.push(early);
    expect(claimed).toBeDefined();
    expect((await claimed!.list).op).toBe('list');
    const kubectlArgs = fake.calls()[0]!.slice(0, fake.calls()[0]!.indexOf('--'));
    expect(kubectlArgs).toEqual(['--context', 'ctx1', 'exec', '-i', 'services/api', '-n', 'shop']);
    await early.release(); // claimed: left to its owner
    expect(claimed!.session.hostname).toBe(hostname());
    await claimed!.session.close();
  });

  it('closes a session that landed elsewhere', async () => {
    const kubectl = setup([{ when: ['exec', 'services/api', '--', 'python3', '-c'], runLocal: true }]);
    const early = EarlySession.open(kubectl, 'shop', SERVICE, { agentSource: loadAgentSource() })!;
    opened.push(early);
    const other = pod('not-this-machine');
    expect(await early.claim(other, [other], 'app')).toBeUndefined();
  });

  it('passes -c when given, and refuses another container', async () => {
    const kubectl = setup([{ when: ['exec', 'services/api', '-c', 'sidecar'], runLocal: true }]);
    const early = EarlySession.open(kubectl, 'shop', SERVICE, { agentSource: loadAgentSource(), container: 'sidecar' })!;
    opened.push(early);
    const here = pod(hostname(), { containers: ['app', 'sidecar'] });
    expect(await early.claim(here, [here], 'app')).toBeUndefined();
  });

  it('kills a start that hangs (kubectl waiting for a pod) when released', async () => {
    const kubectl = setup([{ when: ['exec'], hang: true }]);
    const early = EarlySession.open(kubectl, 'shop', SERVICE, { agentSource: loadAgentSource() })!;
    const begun = Date.now();
    await early.release();
    expect(Date.now() - begun).toBeLessThan(1000);
  });

  it('does not wait for a session that is not up when the target has several pods', async () => {
    const kubectl = setup([{ when: ['exec'], hang: true }]);
    const early = EarlySession.open(kubectl, 'shop', SERVICE, { agentSource: loadAgentSource() })!;
    const a = pod('web-a');
    const begun = Date.now();
    expect(await early.claim(a, [a, pod('web-b')], 'app')).toBeUndefined();
    expect(Date.now() - begun).toBeLessThan(1000);
  });

  it('with one pod, an exec that did not start in time is the answer: no second exec would fare better', async () => {
    const kubectl = setup([{ when: ['exec'], hang: true }]);
    const early = EarlySession.open(kubectl, 'shop', SERVICE, { agentSource: loadAgentSource(), startTimeoutMs: 300 })!;
    opened.push(early);
    const a = pod('web-a');
    await expect(early.claim(a, [a], 'app')).rejects.toBeInstanceOf(Timeout);
  });

  it('opens nothing for a pod or a selector', () => {
    const kubectl = setup([]);
    expect(EarlySession.open(kubectl, 'shop', { kind: 'pod', name: 'web-1' }, { agentSource: '' })).toBeUndefined();
    expect(EarlySession.open(kubectl, 'shop', { kind: 'selector', selector: 'app=web' }, { agentSource: '' })).toBeUndefined();
    expect(fake.calls()).toEqual([]);
  });
});
