/**
 * --all-pods as the user sees it: the one ready event (JSON and text), pods joined and dropped,
 * the stop message per pod, and the one VS Code compound kept in step in launch.json.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { InjectResult } from '../../../src/agent/contract';
import type { ReadyDetails } from '../../../src/session/debug-session';
import { createDebugRenderer, type ViewEvent } from '../../../src/ui/debug-view';
import { launchJsonFollower, launchSnippetForPods } from '../../../src/ui/editor-config';

function details(pod: string, localPorts: number[]): ReadyDetails {
  const injected = localPorts.map((_, i): InjectResult => ({
    op: 'inject', pid: 7 + i, host: '127.0.0.1', port: 5679 + i, reused: false, debugpyVersion: '1.8.20', cwd: '/app', mainFile: '/app/main.py',
    sysPath0: '/app', underSitePackages: false, owner: 'wand', otherSessions: 0, injector: 'remote_exec',
  }));
  return {
    namespace: 'shop', pod, container: 'api', remoteRoot: '/app', injected, processes: [], reason: 'the worker', route: 'exec', debugContainer: null,
    targets: localPorts.map((localPort, i) => ({ pid: 7 + i, localPort, remotePort: 5679 + i, reused: false })),
  };
}

const A = details('api-a', [5679]);
const B = details('api-b', [5680, 5681]);

function render(events: ViewEvent[], json: boolean): { err: string; out: string } {
  const err = new PassThrough();
  const out = new PassThrough();
  const r = createDebugRenderer({ json, out, err });
  events.forEach(r);
  return { err: String(err.read() ?? ''), out: String(out.read() ?? '') };
}

describe('--all-pods events', () => {
  const allReady: ViewEvent = { event: 'all-ready', namespace: 'shop', target: 'service/api', pods: [A, B] };

  it('-o json: one ready event listing every target with its pod, then joined and dropped', () => {
    const { out } = render([allReady, { event: 'pod-joined', target: 'service/api', ...details('api-c', [5682]) }, { event: 'pod-dropped', pod: 'api-a', reason: 'deleted', remaining: 2 }], true);
    const [ready, joined, dropped] = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(ready).toEqual({
      event: 'ready',
      allPods: true,
      namespace: 'shop',
      target: 'service/api',
      targets: [
        { pod: 'api-a', container: 'api', pid: 7, localPort: 5679, remotePort: 5679, reused: false, owner: 'wand', otherSessions: 0 },
        { pod: 'api-b', container: 'api', pid: 7, localPort: 5680, remotePort: 5679, reused: false, owner: 'wand', otherSessions: 0 },
        { pod: 'api-b', container: 'api', pid: 8, localPort: 5681, remotePort: 5680, reused: false, owner: 'wand', otherSessions: 0 },
      ],
      pods: ['api-a', 'api-b'].map((pod) => ({ pod, container: 'api', remoteRoot: '/app', debugpyVersion: '1.8.20', route: 'exec', debugContainer: null, injector: 'remote_exec' })),
    });
    expect(joined).toMatchObject({ event: 'pod-joined', namespace: 'shop', pod: 'api-c', targets: [{ pid: 7, localPort: 5682, remotePort: 5679 }] });
    expect(dropped).toEqual({ event: 'pod-dropped', pod: 'api-a', reason: 'deleted', remaining: 2 });
  });

  it('text: each pod\'s process choice names its pod (there is no pod-chosen line)', () => {
    const chosen = (pod: string): ViewEvent => ({ event: 'chosen', pod, container: 'api', containerNote: '', pids: [1], reason: 'PID 1 (the only Python process)' });
    expect(render([chosen('api-a'), chosen('api-b')], false).err).toBe('→ pod api-a, container api: PID 1 (the only Python process)\n→ pod api-b, container api: PID 1 (the only Python process)\n');
    expect(render([{ event: 'pod-chosen', pod: 'api-a', reason: 'pod api-a (newest ready)' }, chosen('api-a')], false).err).toBe('→ pod api-a (newest ready)\n→ container api: PID 1 (the only Python process)\n');
  });

  it('text: every pod\'s listeners, one compound, and a line per pod joined or dropped', () => {
    const { err } = render([allReady, { event: 'pod-joined', target: 'service/api', ...details('api-c', [5682]) }, { event: 'pod-dropped', pod: 'api-a', reason: 'deleted', remaining: 0 }], false);
    expect(err).toContain('Ready: debugpy is listening in 2 pod(s) of service/api (verified)');
    expect(err).toContain('pod api-a PID 7: attach to 127.0.0.1:5679  →  127.0.0.1:5679 in the pod');
    expect(err).toContain('pod api-b PID 8: attach to 127.0.0.1:5681  →  127.0.0.1:5680 in the pod');
    expect(err).toContain('"name": "wand: service/api (all pods)"');
    expect(err).toContain('pod api-c joined (ready):\n  pod api-c PID 7: attach to 127.0.0.1:5682');
    expect(err).toContain('pod api-a dropped (deleted): no pod left: waiting for one to become ready');
  });

  it('the stop message names each process\'s pod; -o json too', () => {
    const closed = [
      { pod: 'api-a', pid: 7, result: { op: 'close' as const, pid: 7, closed: true, reason: 'closed' as const, port: 5679 } },
      { pod: 'api-b', pid: 7, error: new Error('gone') },
    ];
    expect(render([allReady, { event: 'stopped', closed }], false).err).toMatch(/Stopped \(2 pod\(s\)\):\n {2}pod api-a PID 7: debugger closed — nothing listens on 127\.0\.0\.1:5679[^\n]*\n {2}pod api-b PID 7: could not close/);
    const stopped = render([{ event: 'stopped', closed }], true).out;
    expect(JSON.parse(stopped)).toEqual({
      event: 'stopped',
      closed: [
        { pod: 'api-a', pid: 7, closed: true, reason: 'closed', port: 5679 },
        { pod: 'api-b', pid: 7, closed: false, reason: 'error', error: 'gone' },
      ],
    });
  });
});

describe('the --all-pods VS Code configuration', () => {
  it('one attach configuration per pod and listener, one compound for them all', () => {
    const snippet = launchSnippetForPods([A, B], 'service/api');
    expect(snippet.configurations.map((c) => [c.name, c.connect.port])).toEqual([
      ['wand: api-a PID 7', 5679],
      ['wand: api-b PID 7', 5680],
      ['wand: api-b PID 8', 5681],
    ]);
    expect(snippet.compounds).toEqual([{ name: 'wand: service/api (all pods)', configurations: ['wand: api-a PID 7', 'wand: api-b PID 7', 'wand: api-b PID 8'] }]);
    expect(launchSnippetForPods([], 'service/api')).toEqual({ configurations: [], compounds: [] });
  });

  it('launch.json follows pods joined and dropped, keeping the user\'s own entries', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wand-launch-'));
    try {
      const file = path.join(dir, 'launch.json');
      writeFileSync(file, '{ "configurations": [ { "name": "mine" } ], // my own\n}');
      const follower = launchJsonFollower(dir, () => undefined);
      const read = () => JSON.parse(readFileSync(file, 'utf8')) as { configurations: Array<{ name: string }>; compounds: Array<{ configurations: string[] }> };
      follower.onEvent({ event: 'all-ready', namespace: 'shop', target: 'service/api', pods: [A, B] });
      follower.onEvent({ event: 'pod-joined', target: 'service/api', ...details('api-c', [5682]) });
      await follower.written();
      expect(read().configurations.map((c) => c.name)).toEqual(['mine', 'wand: api-a PID 7', 'wand: api-b PID 7', 'wand: api-b PID 8', 'wand: api-c PID 7']);
      follower.onEvent({ event: 'pod-dropped', pod: 'api-b', reason: 'deleted', remaining: 2 });
      await follower.written();
      expect(read().configurations.map((c) => c.name)).toEqual(['mine', 'wand: api-a PID 7', 'wand: api-c PID 7']);
      expect(read().compounds).toEqual([{ name: 'wand: service/api (all pods)', configurations: ['wand: api-a PID 7', 'wand: api-c PID 7'] }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
