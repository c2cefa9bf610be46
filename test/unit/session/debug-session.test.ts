/**
 * DebugSession against the fake kubectl: every kubectl the engine starts is a real child process
 * (fixtures/fake-kubectl.js), the agent session runs fixtures/fake_agent.py over it (the session
 * protocol, steered by files), port-forwards are fake children the test can kill, and `get pod`
 * answers as the scenario says. Covered: attach, a reloaded worker, a dropped forward, the agent
 * exiting, the pod replaced, and stop() (Ctrl-C) at each stage of the start.
 */
import type { DebugConfig, DebugEvent } from '../../../src/session/debug-session';
import { DebugSession } from '../../../src/session/debug-session';
import { NO_CHOOSER } from '../../../src/session/chooser';
import { chooseProcessesOf, type ChosenProcesses } from '../../../src/session/choose-target';
import type { PodProcesses } from '../../../src/session/discover';
import type { Pod } from '../../../src/kube/types';
import { fixture } from '../select/helpers';
import { alive, FAKE_AGENT, fakePods, pod, PORT, rules, until, type AgentScript, type FakePods } from './fake-pod';

jest.setTimeout(30_000);

/** uvicorn --reload: the reloader PID 1, the worker PID 8; after a reload, the worker PID 15 */
const BEFORE = fixture('uvicorn-reload');
const AFTER = fixture('uvicorn-reload-after');
const WEB1 = pod('web-1', 'uid-1');
const WEB2 = pod('web-2', 'uid-2');

interface Harness extends FakePods {
  session: DebugSession;
  events: DebugEvent[];
}

let harness: Harness | undefined;

function setup(opts: { agent?: Omit<AgentScript, 'processes'>; config?: Partial<DebugConfig>; replacement?: Pod[] } = {}): Harness {
  const pods = fakePods({ 'web-1': WEB1 }, { processes: BEFORE, ...opts.agent });
  const events: DebugEvent[] = [];
  const config: DebugConfig = {
    namespace: 'shop',
    port: PORT,
    localPort: null,
    forward: true,
    timeoutSeconds: 5,
    waitForClient: false,
    agentSource: FAKE_AGENT,
    choose: (listed: PodProcesses) => chooseProcessesOf(listed, {}, true, NO_CHOOSER),
    findPods: () => Promise.resolve(opts.replacement ?? [WEB1]),
    emit: (event) => events.push(event),
    ...opts.config,
  };
  harness = { ...pods, session: new DebugSession(pods.kubectl, config), events };
  return harness;
}

afterEach(async () => {
  const h = harness;
  harness = undefined;
  if (!h) return;
  await h.session.stop();
  h.cleanup();
});

type EventOf<K extends DebugEvent['event']> = DebugEvent & { event: K };

function event<K extends DebugEvent['event']>(h: Harness, kind: K, nth = 1): Promise<EventOf<K>> {
  return until(`${kind} #${nth}`, () => h.events.filter((e): e is EventOf<K> => e.event === kind)[nth - 1]);
}

const injected = (h: Harness) => h.requests().filter((r) => r.op === 'inject').map((r) => r.pid);

describe('DebugSession', () => {
  it('attaches: one agent exec lists, injects the worker and watches it with its reloader; one forward', async () => {
    const h = setup();
    await h.session.start(WEB1);
    expect(h.events.map((e) => e.event)).toEqual(['chosen', 'waiting', 'ready']);
    const ready = await event(h, 'ready');
    expect(ready).toMatchObject({ pod: 'web-1', container: 'app', remoteRoot: '/app', targets: [{ pid: 8, localPort: PORT, remotePort: PORT, reused: false }] });
    await until('the watch', () => h.requests().some((r) => r.op === 'watch'));
    expect(h.requests()).toEqual([
      expect.objectContaining({ op: 'list' }),
      expect.objectContaining({ op: 'inject', pid: 8, port: PORT }),
      expect.objectContaining({ op: 'watch', pids: [8, 1] }),
    ]);
    expect(h.execs()).toHaveLength(1);
    expect(h.forwards()).toHaveLength(1);
  });

  it('stop: every injected process is asked to close its listener, and the answers are returned', async () => {
    const h = setup();
    await h.session.start(WEB1);
    const closed = await h.session.stop();
    expect(h.requests().filter((r) => r.op === 'close')).toEqual([expect.objectContaining({ op: 'close', pid: 8, keepListening: false })]);
    expect(closed).toEqual([{ pid: 8, result: expect.objectContaining({ closed: true, reason: 'closed' }) }]);
  });

  it('worker reloaded: the new worker is injected on the same exec and port', async () => {
    const h = setup();
    await h.session.start(WEB1);
    h.control('reload.json', { exited: [8], processes: AFTER });
    const reinjected = await event(h, 'reinjected');
    expect(reinjected.targets).toEqual([{ pid: 15, localPort: PORT, remotePort: PORT, reused: false }]);
    expect(injected(h)).toEqual([8, 15]);
    expect(h.execs()).toHaveLength(1);
    expect(h.forwards()).toHaveLength(1);
  });

  it('forward dropped while the pod lives: restarted on the same local port', async () => {
    const h = setup();
    await h.session.start(WEB1);
    const [first] = h.forwards();
    process.kill(first!, 'SIGKILL');
    const restored = await event(h, 'forward-restored');
    expect(restored.localPort).toBe(PORT);
    expect(h.forwards()).toHaveLength(2);
    expect(alive(h.forwards()[1]!)).toBe(true);
    expect(h.events.some((e) => e.event === 'pod-lost' || e.event === 'error')).toBe(false);
  });

  it('agent exits while the pod lives: a new session in the same pod, injected again', async () => {
    const h = setup();
    await h.session.start(WEB1);
    h.control('exit');
    const reconnected = await event(h, 'reconnected');
    expect(reconnected).toMatchObject({ pod: 'web-1', targets: [{ pid: 8, remotePort: PORT }] });
    expect(h.execs()).toHaveLength(2);
    expect(h.events.some((e) => e.event === 'pod-lost')).toBe(false);
  });

  it('pod replaced: says the pod is gone and moves to the replacement', async () => {
    const h = setup({ replacement: [WEB1, WEB2] });
    await h.session.start(WEB1);
    h.fake.setRules(rules({ 'web-1': null, 'web-2': WEB2 }));
    h.control('exit'); // the exec ends as when the pod is deleted
    const lost = await event(h, 'pod-lost');
    expect(lost).toEqual({ event: 'pod-lost', pod: 'web-1', reason: 'the agent connection ended' });
    const reconnected = await event(h, 'reconnected');
    expect(reconnected.pod).toBe('web-2');
    expect(h.execs().at(-1)).toContain('web-2');
    expect(h.fake.calls().filter((args) => args.includes('port-forward')).at(-1)).toContain('pod/web-2');
    expect(alive(h.forwards()[0]!)).toBe(false);
    expect(h.events.some((e) => e.event === 'error')).toBe(false);
  });

  describe('stop() (Ctrl-C) ends everything it started, at every stage of the start', () => {
    async function expectAllEnded(h: Harness, start: Promise<void>): Promise<void> {
      await expect(start).rejects.toThrow();
      await until('every agent closed', () => h.closedAgents() === h.execs().length);
      await until('every forward ended', () => h.forwards().every((pid) => !alive(pid)));
      expect(h.events.some((e) => e.event === 'ready')).toBe(false);
    }

    it('before the agent is up: nothing is injected', async () => {
      const h = setup({ agent: { readyDelay: 1 } });
      const start = h.session.start(WEB1);
      start.catch(() => undefined);
      await until('the exec', () => h.execs().length === 1);
      await h.session.stop();
      await expectAllEnded(h, start);
      expect(injected(h)).toEqual([]);
    });

    it('while the processes are being chosen (a prompt): nothing is injected', async () => {
      let choose!: (chosen: ChosenProcesses) => void;
      let listed: PodProcesses | undefined;
      const h = setup({
        config: {
          choose: (l) => {
            listed = l;
            return new Promise((resolve) => (choose = resolve));
          },
        },
      });
      const start = h.session.start(WEB1);
      start.catch(() => undefined);
      await until('the choice', () => listed);
      await h.session.stop();
      choose(await chooseProcessesOf(listed!, {}, true, NO_CHOOSER));
      await expectAllEnded(h, start);
      expect(injected(h)).toEqual([]);
    });

    it('while injecting: the agent is closed (it removes what it wrote)', async () => {
      const h = setup({ agent: { injectDelay: -1 } });
      const start = h.session.start(WEB1);
      start.catch(() => undefined);
      await until('the injection', () => injected(h).length === 1);
      await h.session.stop();
      await expectAllEnded(h, start);
    });

    it('once ready: the forward and the agent end, and the session does not report an end of its own', async () => {
      const h = setup();
      await h.session.start(WEB1);
      await h.session.stop();
      await until('the agent closed', () => h.closedAgents() === 1);
      expect(h.forwards().every((pid) => !alive(pid))).toBe(true);
      const settled = await Promise.race([h.session.finished.then(() => 'finished'), new Promise((resolve) => setTimeout(() => resolve('pending'), 300))]);
      expect(settled).toBe('pending');
      expect(h.events.some((e) => e.event === 'pod-lost' || e.event === 'reconnected')).toBe(false);
    });
  });
});
