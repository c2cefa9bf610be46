import { ageSince, formatAge, podColumns, podStatus, toPodSummary, type ContainerStatusLike, type PodLike } from '../../../src/select/pod-status';

const NOW = new Date('2026-03-10T12:00:00Z');

function pod(status: PodLike['status'], extra: Partial<PodLike> = {}): PodLike {
  return {
    metadata: { name: 'web-1', creationTimestamp: '2026-03-10T11:57:00Z' },
    spec: { containers: [{ name: 'app' }] },
    status,
    ...extra,
  };
}

const running = { running: { startedAt: '2026-03-10T11:57:05Z' } };
const readyCondition = { type: 'Ready', status: 'True' };

describe('podStatus (kubectl STATUS)', () => {
  it('Running with ready containers', () => {
    const p = pod({ phase: 'Running', conditions: [readyCondition], containerStatuses: [{ name: 'app', ready: true, restartCount: 0, state: running }] });
    expect(podColumns(p, NOW)).toEqual({ status: 'Running', ready: '1/1', restarts: '0', age: '3m' });
  });

  it('a waiting container reason wins over the phase (CrashLoopBackOff, ContainerCreating, ImagePullBackOff)', () => {
    for (const reason of ['CrashLoopBackOff', 'ContainerCreating', 'ImagePullBackOff']) {
      const phase = reason === 'CrashLoopBackOff' ? 'Running' : 'Pending';
      expect(podStatus(pod({ phase, containerStatuses: [{ name: 'app', ready: false, state: { waiting: { reason } } }] }))).toBe(reason);
    }
  });

  it('terminated: reason, else Signal:N or ExitCode:N', () => {
    const term = (terminated: object) => pod({ phase: 'Failed', containerStatuses: [{ name: 'app', state: { terminated } }] });
    expect(podStatus(term({ reason: 'OOMKilled', exitCode: 137 }))).toBe('OOMKilled');
    expect(podStatus(term({ exitCode: 0, signal: 9 }))).toBe('Signal:9');
    expect(podStatus(term({ exitCode: 3 }))).toBe('ExitCode:3');
    expect(podStatus(pod({ phase: 'Succeeded', containerStatuses: [{ name: 'app', state: { terminated: { reason: 'Completed', exitCode: 0 } } }] }))).toBe('Completed');
  });

  it('Completed with another container still running: Running when Ready, else NotReady', () => {
    const statuses = [
      { name: 'app', ready: true, state: running },
      { name: 'job', ready: false, state: { terminated: { reason: 'Completed', exitCode: 0 } } },
    ];
    const spec = { containers: [{ name: 'app' }, { name: 'job' }] };
    expect(podStatus(pod({ phase: 'Running', conditions: [readyCondition], containerStatuses: statuses }, { spec }))).toBe('Running');
    expect(podStatus(pod({ phase: 'Running', containerStatuses: statuses }, { spec }))).toBe('NotReady');
  });

  it('Terminating once deletionTimestamp is set (unless already finished); Unknown for a lost node', () => {
    const meta = { name: 'web-1', creationTimestamp: '2026-03-10T11:00:00Z', deletionTimestamp: '2026-03-10T11:59:00Z' };
    const statuses = [{ name: 'app', ready: true, state: running }];
    expect(podStatus(pod({ phase: 'Running', containerStatuses: statuses }, { metadata: meta }))).toBe('Terminating');
    expect(podStatus(pod({ phase: 'Succeeded' }, { metadata: meta }))).toBe('Succeeded');
    expect(podStatus(pod({ phase: 'Running', reason: 'NodeLost' }, { metadata: meta }))).toBe('Unknown');
  });

  it('status.reason (Evicted) and SchedulingGated', () => {
    expect(podStatus(pod({ phase: 'Failed', reason: 'Evicted' }))).toBe('Evicted');
    expect(podStatus(pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }))).toBe('SchedulingGated');
    expect(podStatus({ metadata: { name: 'x' } })).toBe('Unknown');
  });

  it('init containers: Init:i/n, Init:<waiting reason>, Init:<terminated reason>, Init:ExitCode', () => {
    const spec = { containers: [{ name: 'app' }], initContainers: [{ name: 'migrate' }, { name: 'seed' }] };
    const init = (initContainerStatuses: ContainerStatusLike[]) =>
      podStatus(pod({ phase: 'Pending', initContainerStatuses, containerStatuses: [{ name: 'app', state: { waiting: { reason: 'PodInitializing' } } }] }, { spec }));
    expect(init([{ name: 'migrate', state: { terminated: { exitCode: 0 } } }, { name: 'seed', state: running }])).toBe('Init:1/2');
    expect(init([{ name: 'migrate', state: { waiting: { reason: 'CrashLoopBackOff' } } }])).toBe('Init:CrashLoopBackOff');
    expect(init([{ name: 'migrate', state: { waiting: { reason: 'PodInitializing' } } }])).toBe('Init:0/2');
    expect(init([{ name: 'migrate', state: { terminated: { reason: 'Error', exitCode: 1 } } }])).toBe('Init:Error');
    expect(init([{ name: 'migrate', state: { terminated: { exitCode: 2 } } }])).toBe('Init:ExitCode:2');
    expect(init([{ name: 'migrate', state: { terminated: { exitCode: 2, signal: 15 } } }])).toBe('Init:Signal:15');
  });

  it('sidecars (restartable init containers) count in READY and do not hold the pod in Init', () => {
    const spec = { containers: [{ name: 'app' }], initContainers: [{ name: 'proxy', restartPolicy: 'Always' }] };
    const p = pod(
      {
        phase: 'Running',
        conditions: [readyCondition, { type: 'Initialized', status: 'True' }],
        initContainerStatuses: [{ name: 'proxy', started: true, ready: true, restartCount: 1, state: running, lastState: { terminated: { exitCode: 1, finishedAt: '2026-03-10T11:58:00Z' } } }],
        containerStatuses: [{ name: 'app', ready: true, restartCount: 2, state: running, lastState: { terminated: { exitCode: 1, finishedAt: '2026-03-10T11:59:15Z' } } }],
      },
      { spec },
    );
    expect(podColumns(p, NOW)).toEqual({ status: 'Running', ready: '2/2', restarts: '3 (45s ago)', age: '3m' });
  });
});

describe('podColumns: READY and RESTARTS', () => {
  it('sums restarts over containers and shows the last restart', () => {
    const p = pod(
      {
        phase: 'Running',
        containerStatuses: [
          { name: 'app', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: '2026-03-10T11:55:00Z' } } },
          { name: 'side', ready: true, restartCount: 1, state: running },
        ],
      },
      { spec: { containers: [{ name: 'app' }, { name: 'side' }] } },
    );
    expect(podColumns(p, NOW)).toMatchObject({ status: 'CrashLoopBackOff', ready: '1/2', restarts: '5 (5m ago)' });
  });

  it('restarts without a recorded termination time print the bare count', () => {
    const p = pod({ phase: 'Running', containerStatuses: [{ name: 'app', ready: true, restartCount: 2, state: running }] });
    expect(podColumns(p, NOW).restarts).toBe('2');
  });

  it('counts containers from the spec, or the statuses without one', () => {
    expect(podColumns({ metadata: { name: 'x' }, status: { phase: 'Pending' } }, NOW)).toEqual({ status: 'Pending', ready: '0/0', restarts: '0', age: '<unknown>' });
    expect(podColumns({ metadata: { name: 'x' }, status: { phase: 'Running', containerStatuses: [{ name: 'a', ready: true, state: running }] } }, NOW).ready).toBe('1/1');
  });
});

describe('formatAge (kubectl HumanDuration)', () => {
  it.each([
    [-5, '<invalid>'],
    [-0.5, '0s'],
    [0, '0s'],
    [45, '45s'],
    [119, '119s'],
    [120, '2m'],
    [192, '3m12s'],
    [599, '9m59s'],
    [600, '10m'],
    [3 * 3600 - 1, '179m'],
    [3 * 3600, '3h'],
    [5 * 3600 + 30 * 60, '5h30m'],
    [8 * 3600 + 59 * 60, '8h'],
    [47 * 3600, '47h'],
    [48 * 3600, '2d'],
    [51 * 3600, '2d3h'],
    [8 * 86400, '8d'],
    [729 * 86400, '729d'],
    [730 * 86400, '2y'],
    [(3 * 365 + 45) * 86400, '3y45d'],
    [9 * 365 * 86400, '9y'],
  ])('%d s → %s', (seconds, text) => {
    expect(formatAge(seconds)).toBe(text);
  });

  it('ageSince', () => {
    expect(ageSince('2026-03-10T11:59:15Z', NOW)).toBe('45s');
    expect(ageSince(undefined, NOW)).toBe('<unknown>');
    expect(ageSince('not a date', NOW)).toBe('<unknown>');
  });
});

describe('toPodSummary', () => {
  it('keeps what choosePod needs', () => {
    const p = pod({ phase: 'Running', conditions: [readyCondition] }, { metadata: { name: 'web-1', creationTimestamp: '2026-03-10T11:57:00Z' } });
    expect(toPodSummary(p)).toEqual({ name: 'web-1', phase: 'Running', ready: true, creationTimestamp: '2026-03-10T11:57:00Z', deletionTimestamp: null });
    expect(toPodSummary({ metadata: { name: 'x', deletionTimestamp: '2026-03-10T11:59:00Z' } })).toEqual({
      name: 'x',
      phase: 'Unknown',
      ready: false,
      creationTimestamp: '',
      deletionTimestamp: '2026-03-10T11:59:00Z',
    });
  });
});
