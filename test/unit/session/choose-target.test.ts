/** The shared choice rules: what is chosen, when the Chooser is asked, and the remedy when nothing can be. */
import type { ListResult, ProcessRecord } from '../../../src/agent/contract';
import type { Pod } from '../../../src/kube/types';
import type { PodSummary } from '../../../src/select/choose';
import { classifyProcesses, type ClassifiedProcess } from '../../../src/select/roles';
import type { Chooser } from '../../../src/session/chooser';
import { NO_CHOOSER } from '../../../src/session/chooser';
import { ChoiceError, chooseProcessesOf } from '../../../src/session/choose-target';
import type { PodProcesses } from '../../../src/session/discover';
import { fixture, proc } from '../select/helpers';

const POD: Pod = { metadata: { name: 'web-1', namespace: 'shop' }, spec: { containers: [{ name: 'app' }] } };

function listed(records: ProcessRecord[]): PodProcesses {
  const list: ListResult = { op: 'list', agentPython: '3.14.0', capabilities: { uid: 0, sysPtrace: false, yamaPtraceScope: null }, processes: records };
  return { pod: POD, container: 'app', containerNote: 'container "app" (the only one)', processes: classifyProcesses(records), list, error: null };
}

/** A chooser that can ask and records what it was offered; it picks the last process. */
function asking(): Chooser & { offered: number[][] } {
  const offered: number[][] = [];
  return {
    canAsk: true,
    offered,
    pickPod: (candidates: readonly PodSummary[]) => Promise.resolve(candidates[0]!),
    pickProcess: (candidates: readonly ClassifiedProcess[]) => {
      offered.push(candidates.map((p) => p.pid));
      return Promise.resolve(candidates[candidates.length - 1]!);
    },
  };
}

/** A main with a Python child of its own: neither is assumed to serve (ambiguous). */
const TWO_SCRIPTS = [proc(1, 0, ['python3', 'app.py']), proc(2, 1, ['python3', 'app.py'])];

async function choiceError(records: ProcessRecord[], pid?: number): Promise<ChoiceError> {
  const error = await chooseProcessesOf(listed(records), { pid }, false, NO_CHOOSER).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ChoiceError);
  return error as ChoiceError;
}

describe('chooseProcessesOf', () => {
  it('takes the named PID without asking', async () => {
    const chooser = asking();
    const chosen = await chooseProcessesOf(listed(TWO_SCRIPTS), { pid: 2 }, false, chooser);
    expect(chosen.chosen.map((p) => p.pid)).toEqual([2]);
    expect(chooser.offered).toEqual([]);
  });

  it('asks the chooser when several are equally good and it can ask', async () => {
    const chooser = asking();
    const chosen = await chooseProcessesOf(listed(TWO_SCRIPTS), {}, false, chooser);
    expect(chooser.offered).toEqual([[1, 2]]);
    expect(chosen.chosen.map((p) => p.pid)).toEqual([2]);
    expect(chosen.reason).toMatch(/PID 2/);
  });

  it('without anybody to ask, says to pick one with --pid', async () => {
    const error = await choiceError(TWO_SCRIPTS);
    expect(error.code).toBe('ambiguous');
    expect(error.remedy).toBe('pick one with --pid (see: kubectl wand pods pod/web-1 -n shop --with-pids)');
  });

  it.each([
    ['remote-debug-disabled', /^remove PYTHON_DISABLE_REMOTE_DEBUG \/ -X disable-remote-debug .* \(details: kubectl wand doctor pod\/web-1 -n shop\)$/],
    ['python-too-old', /^kubectl-wand needs Python 3\.9\+ in the target/],
    ['permission-denied', /^run the app as the same user as kubectl exec/],
  ] as const)('a process not debuggable for %s gets that remedy, from the agent\'s reasonCode', async (reasonCode, remedy) => {
    const blocked = proc(1, 0, ['python3', 'app.py'], { debuggable: false, reason: 'whatever the agent says', reasonCode } as Partial<ProcessRecord>);
    const error = await choiceError([blocked], 1);
    expect(error.code).toBe('not-debuggable');
    expect(error.message).toBe('cannot debug PID 1: whatever the agent says');
    expect(error.remedy).toMatch(remedy);
  });

  it('does not read the free-text reason: without a reasonCode it points at doctor', async () => {
    const blocked = proc(1, 0, ['python3', 'app.py'], { debuggable: false, reason: 'PYTHON_DISABLE_REMOTE_DEBUG is set in its environment' });
    const error = await choiceError([blocked], 1);
    expect(error.remedy).toBe('see why with: kubectl wand doctor pod/web-1 -n shop');
  });
});

describe('several equally good workers, one process wanted', () => {
  const GUNICORN = fixture('gunicorn-2-workers');
  const workers = classifyProcesses(GUNICORN).filter((p) => p.recommended).map((p) => p.pid);

  it('asks which worker on a terminal and says it was chosen', async () => {
    const chooser = asking();
    const choice = await chooseProcessesOf(listed(GUNICORN), {}, false, chooser);
    expect(workers).toHaveLength(2);
    expect(chooser.offered).toEqual([workers]);
    expect(choice.chosen.map((p) => p.pid)).toEqual([workers[1]]);
    expect(choice.reason).toMatch(new RegExp(`^PID ${workers[1]} — .*\\(chosen\\)$`));
  });

  it('takes every worker without asking when all are wanted (debug), the first when nobody can be asked', async () => {
    const chooser = asking();
    expect((await chooseProcessesOf(listed(GUNICORN), {}, true, chooser)).chosen.map((p) => p.pid)).toEqual(workers);
    expect(chooser.offered).toEqual([]);
    expect((await chooseProcessesOf(listed(GUNICORN), {}, false, NO_CHOOSER)).chosen.map((p) => p.pid)).toEqual([workers[0]]);
  });
});
