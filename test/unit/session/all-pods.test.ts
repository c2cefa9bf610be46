/**
 * AllPodsSession against the fake kubectl (see ./fake-pod): every ready pod attached at once on
 * ports in name order, one all-ready event; then the watch's events: a pod that becomes ready is
 * joined on the next port, a deleted one dropped (its ports freed), a not-ready one left alone;
 * stop() closes every pod's processes. A watch the API server ends is followed by the next one at
 * once; one that keeps failing at once ends the session with kubectl's reason.
 */
import { existsSync } from 'node:fs';
import { AllPodsSession, type AllPodsEvent } from '../../../src/session/all-pods';
import type { DebugEvent } from '../../../src/session/debug-session';
import type { Pod } from '../../../src/kube/types';
import { fixture } from '../select/helpers';
import type { FakeRule, FakeStep } from '../kube/fake-kubectl';
import { FAKE_AGENT, fakePods, pod, PORT, rules, until, type FakePods } from './fake-pod';

jest.setTimeout(30_000);

const WEB1 = pod('web-1', 'uid-1');
const WEB2 = pod('web-2', 'uid-2');
const WEB3 = pod('web-3', 'uid-3');
const STARTING = { ...pod('web-0', 'uid-0'), status: { phase: 'Pending' } } as Pod;
const line = (type: string, object: Pod) => `${JSON.stringify({ type, object })}\n`;

let pods: FakePods | undefined;
let session: AllPodsSession | undefined;
afterEach(async () => {
  await session?.stop();
  pods?.cleanup();
  session = undefined;
  pods = undefined;
});

const POD_RULES = { 'web-1': WEB1, 'web-2': WEB2, 'web-3': WEB3 };

/** `watch`: how `kubectl get pods --watch` behaves (by default it prints `watchSteps` and stays) */
function setup(watchSteps: FakeStep[], watch: Partial<FakeRule> = { hang: true }): { session: AllPodsSession; events: Array<DebugEvent | AllPodsEvent>; pods: FakePods } {
  pods = fakePods(POD_RULES, { processes: fixture('uvicorn-reload') }, [{ when: ['get', 'pods', '--watch'], steps: watchSteps, ...watch }]);
  const events: Array<DebugEvent | AllPodsEvent> = [];
  session = new AllPodsSession(
    pods.kubectl,
    { namespace: 'shop', port: PORT, localPort: 6000, forward: true, timeoutSeconds: 5, waitForClient: false, agentSource: FAKE_AGENT },
    'service/api',
    (e) => events.push(e),
  );
  return { session, events, pods };
}

/** pod → LOCAL:REMOTE of each port-forward started */
const forwards = (p: FakePods) => Object.fromEntries(p.fake.calls().filter((c) => c.includes('port-forward')).map((c) => [c.at(-2), c.at(-1)]));

const of = <K extends AllPodsEvent['event']>(events: Array<DebugEvent | AllPodsEvent>, kind: K) =>
  events.filter((e): e is Extract<AllPodsEvent, { event: K }> => e.event === kind);

test('attaches every ready pod at once, then joins and drops pods as the watch reports them', async () => {
  const h = setup([
    { stdout: line('ADDED', WEB2) + line('ADDED', STARTING) + line('ADDED', WEB3) },
    { stdout: line('DELETED', WEB1), delayMs: 1500 },
  ]);
  await h.session.start([WEB2, STARTING, WEB1]);
  const [ready] = of(h.events, 'all-ready');
  expect(ready?.pods.map((d) => d.pod).sort()).toEqual(['web-1', 'web-2']);
  // local ports in pod name order from --local-port, the same remote port (the fake always answers "Forwarding from 127.0.0.1:5679")
  expect(forwards(h.pods)).toEqual({ 'pod/web-1': '6000:5679', 'pod/web-2': '6001:5679' });
  expect(h.pods.execs()).toHaveLength(2); // the Pending pod is not attached

  h.session.follow(['-l', 'app=web']);
  const joined = await until('pod-joined', () => of(h.events, 'pod-joined')[0]);
  expect(joined.pod).toBe('web-3');
  expect(forwards(h.pods)['pod/web-3']).toBe('6002:5679');
  const dropped = await until('pod-dropped', () => of(h.events, 'pod-dropped')[0]);
  expect(dropped).toEqual({ event: 'pod-dropped', pod: 'web-1', reason: 'deleted', remaining: 2 });
  expect(h.pods.fake.calls().filter((c) => c.includes('--watch'))).toHaveLength(1);

  const closed = await h.session.stop();
  expect(closed.map((c) => c.pod).sort()).toEqual(['web-2', 'web-3']);
  expect(closed.every((c) => 'result' in c && c.result.closed)).toBe(true);
  session = undefined;
});

test('no ready pod: the start fails, naming why', async () => {
  const h = setup([]);
  await expect(h.session.start([STARTING])).rejects.toThrow(/web-0/);
  expect(h.pods.execs()).toHaveLength(0);
});

test('the API server ends the watch after a while: the next one starts at once and its events count', async () => {
  // kubectl's watch ends (exit 0) after more than WATCH_QUICK_END_MS (5 s): not a failure
  const h = setup([{ stdout: line('ADDED', WEB2) }, { delayMs: 5200 }], { exit: 0, pidFile: 'watches' });
  await h.session.start([WEB1, WEB2]);
  h.session.follow(['-l', 'app=web']);
  // once the first watch has read its rule (it wrote its pid), the next one gets another
  await until('the first watch', () => existsSync(h.pods.fake.file('watches')));
  h.pods.fake.setRules([{ when: ['get', 'pods', '--watch'], steps: [{ stdout: line('DELETED', WEB1) }], hang: true }, ...rules(POD_RULES)]);
  const dropped = await until('pod-dropped', () => of(h.events, 'pod-dropped')[0]);
  expect(dropped).toEqual({ event: 'pod-dropped', pod: 'web-1', reason: 'deleted', remaining: 1 });
  expect(h.pods.fake.calls().filter((c) => c.includes('--watch'))).toHaveLength(2);
  expect(await Promise.race([h.session.finished, new Promise((r) => setTimeout(() => r('following'), 100))])).toBe('following');
});

test('a watch that keeps failing at once ends the session with kubectl\'s reason, after 5 tries a second apart', async () => {
  const h = setup([{ stderr: 'error: You must be logged in to the server (Unauthorized)\n' }], { exit: 1 });
  await h.session.start([WEB1]);
  const began = Date.now();
  h.session.follow(['-l', 'app=web']);
  const error = await h.session.finished;
  expect(error.message).toBe('cannot follow the pods of service/api: error: You must be logged in to the server (Unauthorized)');
  expect(h.pods.fake.calls().filter((c) => c.includes('--watch'))).toHaveLength(5);
  expect(Date.now() - began).toBeGreaterThanOrEqual(4000); // retried, not spun
});
