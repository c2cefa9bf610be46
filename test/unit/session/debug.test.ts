/**
 * debugTarget, the whole `debug` command as the CLI calls it, against the fake kubectl (see
 * ./fake-pod): the pod choice, the early exec for a Service, stop before and after ready, and a
 * start that fails, explained.
 */
import { WandError } from '../../../src/errors';
import { agentRemedy } from '../../../src/remedies';
import { NO_CHOOSER } from '../../../src/session/chooser';
import { debugTarget, type DebugRequest, type DebugRunEvent } from '../../../src/session/debug';
import { NoPods } from '../../../src/session/errors';
import type { Target } from '../../../src/session/targets';
import { json, type FakeRule } from '../kube/fake-kubectl';
import { fixture } from '../select/helpers';
import { FAKE_AGENT, fakePods, pod, PORT, until, type AgentScript, type FakePods } from './fake-pod';

jest.setTimeout(30_000);

const WEB1 = pod('web-1', 'uid-1');
const SERVICE: Target = { kind: 'service', name: 'api' };
const REQUEST: DebugRequest = { port: PORT, localPort: null, forward: true, timeoutSeconds: 5, waitForClient: false, agentSource: FAKE_AGENT };

/** svc/api selects app=web: the pods given */
function serviceRules(pods: unknown[]): FakeRule[] {
  return [
    { when: ['get', 'services', 'api'], steps: [json({ metadata: { name: 'api' }, spec: { selector: { app: 'web' } } })] },
    { when: ['get', 'pods', '-l', 'app=web'], steps: [json({ items: pods })] },
  ];
}

let pods: FakePods | undefined;
afterEach(() => {
  pods?.cleanup();
  pods = undefined;
});

function setup(agent: Partial<AgentScript> = {}, extra: FakeRule[] = serviceRules([WEB1])): FakePods {
  pods = fakePods({ 'web-1': WEB1 }, { processes: fixture('uvicorn-reload'), ...agent }, extra);
  return pods;
}

function run(p: FakePods, target: Target, stop: Promise<unknown>, request: Partial<DebugRequest> = {}) {
  const events: DebugRunEvent[] = [];
  const ended = debugTarget({ kubectl: p.kubectl, namespace: 'shop', target }, { ...REQUEST, ...request }, NO_CHOOSER, (e) => events.push(e), () => stop);
  return { events, ended };
}

describe('debugTarget', () => {
  it('a Service: the exec started by TYPE/NAME while the pods resolve is the one used; stops when told', async () => {
    const p = setup();
    let stop!: () => void;
    const { events, ended } = run(p, SERVICE, new Promise<void>((resolve) => (stop = resolve)));
    await until('ready', () => events.some((e) => e.event === 'ready'));
    expect(events.map((e) => e.event)).toEqual(['pod-chosen', 'chosen', 'waiting', 'ready']);
    expect(p.execs()).toHaveLength(1);
    expect(p.execs()[0]).toContain('services/api');
    stop();
    await expect(ended).resolves.toEqual({ beforeReady: false, closed: [{ pid: 8, result: expect.objectContaining({ reason: 'closed' }) }], error: undefined });
    await until('the agent closed', () => p.closedAgents() === 1);
  });

  it('--pod: no early exec, the named pod', async () => {
    const p = setup();
    const { events, ended } = run(p, SERVICE, Promise.resolve(), { pod: 'web-1', agentSource: FAKE_AGENT });
    await expect(ended).resolves.toMatchObject({ beforeReady: true });
    expect(events[0]).toEqual({ event: 'pod-chosen', pod: 'web-1', reason: 'pod web-1 (named)' });
    expect(p.execs().every((args) => !args.includes('services/api'))).toBe(true);
  });

  it('no pod to choose: the error, and the early exec is ended', async () => {
    const p = setup({}, serviceRules([]));
    const { ended } = run(p, SERVICE, new Promise(() => undefined));
    await expect(ended).rejects.toBeInstanceOf(NoPods);
    await until('the early exec ended', () => p.execs().length === 1 && p.closedAgents() === 1);
  });

  it('stop before ready: ends what it started and says so (beforeReady)', async () => {
    const p = setup({ injectDelay: -1 });
    let stop!: () => void;
    const { events, ended } = run(p, { kind: 'pod', name: 'web-1' }, new Promise<void>((resolve) => (stop = resolve)));
    await until('the injection', () => p.requests().some((r) => r.op === 'inject'));
    stop();
    await expect(ended).resolves.toEqual({ beforeReady: true });
    expect(events.some((e) => e.event === 'ready')).toBe(false);
    await until('the agent closed', () => p.closedAgents() === 1);
  });

  it('a start that fails is explained with the remedy for its code', async () => {
    const message = 'no writable directory for the injected script: tried /tmp (Read-only file system)';
    const p = setup({ injectError: { code: 'no-writable-dir', message } });
    const { ended } = run(p, { kind: 'pod', name: 'web-1' }, new Promise(() => undefined));
    const error = (await ended.catch((e: unknown) => e)) as WandError;
    expect(error).toBeInstanceOf(WandError);
    expect(error).toMatchObject({ message, code: 'no-writable-dir', remedy: agentRemedy('no-writable-dir', message), exitClass: 'failure' });
    await until('the agent closed', () => p.closedAgents() === 1);
  });
});
