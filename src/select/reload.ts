/**
 * Following reloads during `debug`: compare the targets chosen earlier with a fresh process table.
 *
 * A process is "the same" when its PID is there with the same command line and an uptime that did
 * not go backwards; a container restart reuses PIDs (PID 1, 7, 8 again), so PID alone would lie.
 */
import type { ClassifiedProcess } from './roles';

/**
 * - unchanged: every target is still there
 * - replaced: new recommended processes appeared under the same manager (a reload, a respawned
 *   gunicorn worker): inject `added`; `targets` is the whole new set to watch
 * - waiting: targets are gone but their manager is alive and has not started a new one yet
 * - restarted: a target's manager is gone or restarted (or the target had none): the container
 *   restarted or the app exited — list and choose again
 */
export type ReloadOutcome =
  | { kind: 'unchanged'; targets: ClassifiedProcess[] }
  | { kind: 'replaced'; targets: ClassifiedProcess[]; added: ClassifiedProcess[]; gone: number[] }
  | { kind: 'waiting'; targets: ClassifiedProcess[]; gone: number[]; managers: number[] }
  | { kind: 'restarted'; gone: number[] };

/** Seconds of uptime rounding tolerated between two samples of the same process. */
const UPTIME_SLACK = 1;

type Identity = Pick<ClassifiedProcess, 'pid' | 'argv' | 'uptimeSeconds'>;

export function isSameProcess(before: Identity, after: Identity): boolean {
  return (
    before.pid === after.pid &&
    before.argv.length === after.argv.length &&
    before.argv.every((a, i) => a === after.argv[i]) &&
    after.uptimeSeconds + UPTIME_SLACK >= before.uptimeSeconds
  );
}

function findSame(p: Identity, table: readonly ClassifiedProcess[]): ClassifiedProcess | undefined {
  const candidate = table.find((q) => q.pid === p.pid);
  return candidate !== undefined && isSameProcess(p, candidate) ? candidate : undefined;
}

/**
 * @param before the table the targets were chosen from
 * @param targets the processes being debugged (from `before`)
 * @param after a fresh table
 */
export function followReload(
  before: readonly ClassifiedProcess[],
  targets: readonly ClassifiedProcess[],
  after: readonly ClassifiedProcess[],
): ReloadOutcome {
  const kept: ClassifiedProcess[] = [];
  const gone: ClassifiedProcess[] = [];
  for (const t of targets) {
    const now = findSame(t, after);
    if (now !== undefined) kept.push(now);
    else gone.push(t);
  }
  const managers = new Map<number, ClassifiedProcess>(); // pid -> manager in `after`
  for (const t of targets) {
    const manager = before.find((p) => p.pid === t.ppid);
    const alive = manager !== undefined && t.ppid !== 0 ? findSame(manager, after) : undefined;
    if (alive !== undefined) managers.set(alive.pid, alive);
    else if (gone.includes(t)) return { kind: 'restarted', gone: gone.map((g) => g.pid) };
  }
  const added = after.filter(
    (p) =>
      p.recommended &&
      managers.has(p.ppid) &&
      !kept.some((k) => k.pid === p.pid) &&
      !before.some((b) => isSameProcess(b, p)),
  );
  const goneIds = gone.map((g) => g.pid);
  if (added.length > 0) return { kind: 'replaced', targets: [...kept, ...added], added, gone: goneIds };
  if (gone.length === 0) return { kind: 'unchanged', targets: kept };
  return { kind: 'waiting', targets: kept, gone: goneIds, managers: [...managers.keys()] };
}
