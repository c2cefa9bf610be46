/** The stop message of `kubectl wand debug`: what ending the session left in each process (issue 15). */
import { PassThrough } from 'node:stream';
import type { CloseResult } from '../../../src/agent/contract';
import type { ClosedTarget } from '../../../src/session/debug-session';
import { createDebugRenderer } from '../../../src/ui/debug-view';

function render(closed: ClosedTarget[], json = false): { err: string; out: string } {
  const err = new PassThrough();
  const out = new PassThrough();
  const r = createDebugRenderer({ json, out, err });
  r({ event: 'stopped', closed });
  return { err: String(err.read() ?? ''), out: String(out.read() ?? '') };
}

const result = (pid: number, extra: Partial<CloseResult>): ClosedTarget => ({
  pid,
  result: { op: 'close', pid, closed: false, reason: 'closed', ...extra },
});

describe('the stop message', () => {
  it('says the debugger is closed, and how many held threads resumed', () => {
    const { err } = render([result(7, { closed: true, reason: 'closed', port: 5679, resumedThreads: 1 })]);
    expect(err).toContain('PID 7: debugger closed — nothing listens on 127.0.0.1:5679 any more, tracing is off; 1 thread(s) held at a breakpoint resumed');
    expect(err).not.toMatch(/keeps listening/);
  });

  it('with --keep-listening: who can attach, and how to close it later', () => {
    const { err } = render([result(7, { reason: 'keep-listening', port: 5679 })]);
    expect(err).toMatch(/keeps listening on 127\.0\.0\.1:5679 \(--keep-listening\): anyone allowed to port-forward/);
    expect(err).toMatch(/without --keep-listening and stop that session/);
  });

  it('other sessions, the app\'s own listener, a fallback, a busy main thread, a failed request, a listen() that never returned', () => {
    const { err } = render([
      result(1, { reason: 'other-sessions', otherSessions: 1, port: 5679 }),
      result(2, { reason: 'app-listener', port: 5678 }),
      result(3, { reason: 'fallback', port: 5681, fallback: 'debugpy 9.0 lacks pydevd.stoptrace (verified with 1.8.20): the listener is left as it was' }),
      result(4, { reason: 'adapter-killed', port: 5682, fallback: 'main thread blocked; its debugpy adapter was ended instead' }),
      { pid: 5, error: new Error('process 5 exited while waiting') },
      result(6, { reason: 'opening', port: 5683 }),
    ]);
    expect(err).toMatch(/PID 1: left listening on 127\.0\.0\.1:5679: 1 other kubectl-wand session\(s\) still use it; the last one to end closes it/);
    expect(err).toMatch(/PID 2: the app's own debugpy listener on 127\.0\.0\.1:5678 was left as it was/);
    expect(err).toMatch(/PID 3: the debugger could not be closed \(debugpy 9\.0 lacks pydevd\.stoptrace .*\): debugpy keeps listening on 127\.0\.0\.1:5681 until the process exits/);
    expect(err).toMatch(/PID 4: main thread blocked; its debugpy adapter was ended instead/);
    expect(err).toMatch(/PID 5: could not close the debugger \(process 5 exited while waiting\)/);
    expect(err).toMatch(/PID 6: the debugger was still starting in the process and could not be closed: debugpy keeps listening on 127\.0\.0\.1:5683/);
  });

  it('-o json: one stopped event with each process\'s outcome', () => {
    const { out } = render([result(7, { closed: true, reason: 'closed', port: 5679 }), { pid: 8, error: new Error('gone') }], true);
    expect(JSON.parse(out)).toEqual({
      event: 'stopped',
      closed: [
        { pid: 7, closed: true, reason: 'closed', port: 5679 },
        { pid: 8, closed: false, reason: 'error', error: 'gone' },
      ],
    });
  });

  it('nothing injected: just Stopped.', () => {
    expect(render([]).err).toBe('Stopped.\n');
  });
});
