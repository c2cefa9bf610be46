import type { ProcessRecord } from '../../../src/agent/contract';
import { listedAsTracer, overcomeByEphemeral } from '../../../src/select/ephemeral';
import { proc as record } from './helpers';

/** a Python app process (pid 7) unless `over` says otherwise */
const proc = (over: Partial<ProcessRecord>): ProcessRecord => record(over.pid ?? 7, 1, over.argv ?? ['python3', 'app.py'], over);
const refused = (code: ProcessRecord['traceDeniedCode'], ifTraced: ProcessRecord['ifTraced']) =>
  proc({ debuggable: false, reason: 'no permission to trace it: …', reasonCode: 'permission-denied', traceDeniedCode: code, ifTraced });
const tracedOk = { debuggable: true, reason: null, reasonCode: null };

describe('listedAsTracer', () => {
  it("under Yama or seccomp the exec'd listing holds: refused processes take their ifTraced verdict", () => {
    const disabled = { debuggable: false, reason: 'PYTHON_DISABLE_REMOTE_DEBUG is set in its environment', reasonCode: 'remote-debug-disabled' as const };
    const seen = listedAsTracer([proc({ pid: 1, isPython: false, debuggable: false, reason: 'not a Python process', reasonCode: 'not-python' }), refused('yama-scope-1', tracedOk), refused('seccomp', disabled)]);
    expect(seen?.map((p) => [p.debuggable, p.reasonCode, p.traceDeniedCode ?? null])).toEqual([
      [false, 'not-python', null],
      [true, null, null],
      [false, 'remote-debug-disabled', null],
    ]);
    expect(seen?.[2]?.reason).toBe(disabled.reason);
  });
  it('another uid, capabilities or a non-dumpable target hid /proc from it, and an older agent said nothing: list again', () => {
    for (const code of ['other-uid', 'more-capabilities', 'not-dumpable', 'proc-unreadable'] as const) {
      expect(listedAsTracer([refused(code, tracedOk)])).toBeUndefined();
    }
    expect(listedAsTracer([refused('yama-scope-2', undefined)])).toBeUndefined();
  });
  it('nothing refused: the listing as it is', () => {
    const all = [proc({})];
    expect(listedAsTracer(all)).toEqual(all);
  });
});

describe('overcomeByEphemeral', () => {
  it('not Yama scope 3 nor a kernel without process_vm_readv', () => {
    expect(overcomeByEphemeral('yama-scope-1')).toBe(true);
    expect(overcomeByEphemeral('yama-scope-3')).toBe(false);
    expect(overcomeByEphemeral('no-process-vm')).toBe(false);
  });
});
