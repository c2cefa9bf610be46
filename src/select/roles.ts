/**
 * Roles of the processes of one container, from their command lines, parent/child relations and
 * the two environment markers the reloaders set — never from "PID 1" alone.
 *
 * Recommendation is by role only: a recommended process may still be undebuggable (Python 3.13,
 * remote debugging disabled, no ptrace rights). chooseProcesses() filters on `debuggable` and
 * says why; the process table shows both facts side by side.
 */
import type { AgentErrorCode, ProcessRecord } from '../agent/contract';
import { basename, hasFlag, invocationOf, optionValue, type Invocation, type Program } from './python-argv';

/** What a process is in its container. Shown in the ROLE column and in `-o json`. */
export type Role =
  /** watches files and restarts its worker: uvicorn --reload, fastapi dev, werkzeug, Django */
  | 'reloader'
  /** starts several workers and restarts them when they die: uvicorn --workers N */
  | 'supervisor'
  /** gunicorn's master process */
  | 'arbiter'
  /** serves requests for a reloader, supervisor or arbiter */
  | 'worker'
  /** a Python process that serves by itself (no manager above it) */
  | 'main'
  /** multiprocessing's resource tracker or forkserver, debugpy's launcher */
  | 'helper'
  /** debugpy's adapter (one per debugpy listener) */
  | 'debug-adapter'
  /** starts the application and waits: tini, dumb-init, sh -c, bash -c, supervisord */
  | 'wrapper'
  /** anything else: non-Python processes, zombies, subprocesses of the application */
  | 'other';

export type Framework = 'uvicorn' | 'fastapi' | 'flask' | 'django' | 'gunicorn' | 'python';

/**
 * Why a process is recommended, in one word: `worker` (one of the workers of an arbiter or
 * supervisor), `reloader-child` (the process a reloader restarts), `only` (the only Python
 * process), `app` (the one application process among helpers and debug adapters).
 */
export type Why = 'worker' | 'reloader-child' | 'only' | 'app';

export interface ClassifiedProcess extends ProcessRecord {
  role: Role;
  /** serves requests: the process(es) to debug unless told otherwise */
  recommended: boolean;
  /** set when recommended */
  why: Why | null;
  /** the server the process belongs to ('python' when none is recognised); null for helpers etc. */
  framework: Framework | null;
}

interface Placement {
  role: Role;
  framework: Framework | null;
}

const MANAGER_ROLES: ReadonlySet<Role> = new Set(['reloader', 'supervisor', 'arbiter']);

/** True for the roles that manage workers. */
export function isManager(role: Role): boolean {
  return MANAGER_ROLES.has(role);
}

/** Roles never offered as a debug target when nothing is recommended. */
export function isInfrastructure(role: Role): boolean {
  return role === 'helper' || role === 'debug-adapter' || role === 'wrapper';
}

export function classifyProcesses(records: readonly ProcessRecord[]): ClassifiedProcess[] {
  const table = new ProcessTable(records);
  const placed = new Map<number, Placement>();
  for (const r of records) {
    const own = placeByOwnCommand(r, table);
    if (own) placed.set(r.pid, own);
  }
  placeWorkersAndManagers(table, placed);
  for (const r of records) {
    if (!placed.has(r.pid)) placed.set(r.pid, placeRemaining(r, table, placed));
  }
  const recommended = recommend(table, placed);
  return records.map((r) => {
    const { role, framework } = placed.get(r.pid) ?? { role: 'other', framework: null };
    const why = recommended.get(r.pid) ?? null;
    return { ...r, role, framework, recommended: why !== null, why };
  });
}

class ProcessTable {
  private readonly byPid = new Map<number, ProcessRecord>();
  private readonly childrenByPid = new Map<number, ProcessRecord[]>();
  private readonly invocations = new Map<number, Invocation>();

  constructor(readonly records: readonly ProcessRecord[]) {
    for (const r of records) {
      this.byPid.set(r.pid, r);
      const siblings = this.childrenByPid.get(r.ppid) ?? [];
      siblings.push(r);
      this.childrenByPid.set(r.ppid, siblings);
      if (r.isPython) this.invocations.set(r.pid, invocationOf(r.argv));
    }
  }

  get(pid: number): ProcessRecord | undefined {
    return this.byPid.get(pid);
  }

  parent(r: ProcessRecord): ProcessRecord | undefined {
    return r.ppid === r.pid ? undefined : this.byPid.get(r.ppid);
  }

  children(r: ProcessRecord): ProcessRecord[] {
    return this.childrenByPid.get(r.pid) ?? [];
  }

  /** null for non-Python processes */
  invocation(r: ProcessRecord): Invocation | null {
    return this.invocations.get(r.pid) ?? null;
  }
}

const INIT_WRAPPERS = new Set(['tini', 'tini-static', 'dumb-init', 'catatonit']);
const PARENT_WRAPPERS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh', 'busybox', 'su', 'sudo', 'runuser']);

function placeByOwnCommand(r: ProcessRecord, table: ProcessTable): Placement | null {
  const inv = table.invocation(r);
  if (inv === null) return { role: isWrapper(r, table) ? 'wrapper' : 'other', framework: null };
  switch (inv.program) {
    case 'debug-adapter':
      return { role: 'debug-adapter', framework: null };
    case 'debug-launcher':
    case 'resource-tracker':
      return { role: 'helper', framework: null };
    case 'forkserver': {
      // The forkserver's children are forked from it and keep its command line: they are the
      // application's pool workers, not helpers.
      const parent = table.parent(r);
      const forked = parent !== undefined && table.invocation(parent)?.key === inv.key;
      return { role: forked ? 'other' : 'helper', framework: null };
    }
    case 'supervisord':
      return { role: 'wrapper', framework: null };
    case 'gunicorn-master':
      return { role: 'arbiter', framework: 'gunicorn' };
    case 'gunicorn-worker':
      return { role: 'worker', framework: 'gunicorn' };
    default:
      return null;
  }
}

function isWrapper(r: ProcessRecord, table: ProcessTable): boolean {
  const names = [r.exe, r.argv[0]].filter((n): n is string => !!n).map(basename);
  if (names.some((n) => INIT_WRAPPERS.has(n))) return true;
  return names.some((n) => PARENT_WRAPPERS.has(n)) && table.children(r).length > 0;
}

type Pairing = 'spawn' | 'gunicorn' | 'werkzeug' | 'django';

/** How `child` relates to its Python parent, when the parent manages it. */
function pairingOf(child: ProcessRecord, parent: ProcessRecord, table: ProcessTable): Pairing | null {
  const inv = table.invocation(child);
  const parentInv = table.invocation(parent);
  if (inv === null || parentInv === null) return null;
  if (inv.program === 'spawn-child') return 'spawn';
  if (inv.key !== parentInv.key) return null;
  if (parentInv.program === 'gunicorn') return 'gunicorn';
  if (child.env?.WERKZEUG_RUN_MAIN === 'true' || parentInv.program === 'flask') return 'werkzeug';
  if (child.env?.RUN_MAIN === 'true' || parentInv.program === 'django') return 'django';
  return null;
}

function placeWorkersAndManagers(table: ProcessTable, placed: Map<number, Placement>): void {
  const managers = new Map<number, { pairing: Pairing; workers: number }>();
  for (const r of table.records) {
    const parent = table.parent(r);
    if (placed.has(r.pid) || parent === undefined) continue;
    const parentPlacement = placed.get(parent.pid);
    if (parentPlacement !== undefined && !managers.has(parent.pid)) continue;
    const pairing = pairingOf(r, parent, table);
    if (pairing === null) continue;
    placed.set(r.pid, { role: 'worker', framework: workerFramework(pairing, table.invocation(parent)) });
    const manager = managers.get(parent.pid) ?? { pairing, workers: 0 };
    manager.workers++;
    managers.set(parent.pid, manager);
    placed.set(parent.pid, { role: 'other', framework: null }); // settled below
  }
  for (const [pid, { pairing, workers }] of managers) {
    const manager = table.get(pid);
    if (manager === undefined) continue;
    const framework = workerFramework(pairing, table.invocation(manager));
    placed.set(pid, { role: managerRole(pairing, manager, table, workers), framework });
  }
}

function workerFramework(pairing: Pairing, managerInv: Invocation | null): Framework {
  switch (pairing) {
    case 'gunicorn':
      return 'gunicorn';
    case 'werkzeug':
      return 'flask';
    case 'django':
      return 'django';
    case 'spawn':
      return frameworkOf(managerInv?.program ?? null);
  }
}

function managerRole(pairing: Pairing, manager: ProcessRecord, table: ProcessTable, workers: number): Role {
  if (pairing === 'gunicorn') return 'arbiter';
  if (pairing !== 'spawn') return 'reloader';
  const inv = table.invocation(manager);
  const byArgv = inv === null ? null : managerRoleByArgv(inv, manager);
  if (byArgv !== null) return byArgv;
  // uvicorn.run(reload=True) from a script, or --reload/--workers given through the environment:
  // uvicorn's reloader runs one spawned worker, its supervisor several.
  return workers === 1 ? 'reloader' : 'supervisor';
}

function workersOption(args: readonly string[]): number {
  return Number(optionValue(args, '--workers', '-w') ?? '1');
}

/** The manager role a command line asks for, before (or without) any worker being seen. */
function managerRoleByArgv(inv: Invocation, r: ProcessRecord): Role | null {
  const { program, args } = inv;
  switch (program) {
    case 'uvicorn':
      if (hasFlag(args, '--reload')) return 'reloader';
      return workersOption(args) > 1 ? 'supervisor' : null;
    case 'fastapi': {
      const reload = args[0] === 'dev' ? !hasFlag(args, '--no-reload') : hasFlag(args, '--reload');
      if (reload) return 'reloader';
      return workersOption(args) > 1 ? 'supervisor' : null;
    }
    case 'gunicorn':
      return 'arbiter';
    case 'django':
      if (!args.includes('runserver') || hasFlag(args, '--noreload')) return null;
      return r.env?.RUN_MAIN === 'true' ? null : 'reloader';
    case 'flask':
      if (args[0] !== 'run' || hasFlag(args, '--no-reload', '--no-debug')) return null;
      if (!hasFlag(args, '--debug', '--reload')) return null;
      return r.env?.WERKZEUG_RUN_MAIN === 'true' ? null : 'reloader';
    default:
      return null;
  }
}

function frameworkOf(program: Program | null): Framework {
  switch (program) {
    case 'uvicorn':
    case 'fastapi':
    case 'flask':
    case 'django':
    case 'gunicorn':
      return program;
    default:
      return 'python';
  }
}

function placeRemaining(r: ProcessRecord, table: ProcessTable, placed: Map<number, Placement>): Placement {
  const inv = table.invocation(r);
  if (inv === null) return { role: 'other', framework: null };
  const managerRole = managerRoleByArgv(inv, r);
  if (managerRole !== null) return { role: managerRole, framework: frameworkOf(inv.program) };
  const parent = table.parent(r);
  const parentRole = parent === undefined ? undefined : placed.get(parent.pid)?.role;
  // A subprocess of a Python application is not an application of its own; the program run by
  // supervisord or debugpy's launcher is.
  if (parent?.isPython && parentRole !== 'wrapper' && parentRole !== 'helper') return { role: 'other', framework: null };
  return { role: 'main', framework: frameworkOf(inv.program) };
}

function recommend(table: ProcessTable, placed: Map<number, Placement>): Map<number, Why> {
  const roleOf = (r: ProcessRecord): Role | undefined => placed.get(r.pid)?.role;
  const why = new Map<number, Why>();
  const workers = table.records.filter((r) => roleOf(r) === 'worker');
  for (const w of workers) {
    const parent = table.parent(w);
    why.set(w.pid, parent !== undefined && roleOf(parent) === 'reloader' ? 'reloader-child' : 'worker');
  }
  if (workers.length > 0) return why;
  // A reloader between two workers: the next worker is the target, not some other main.
  if (table.records.some((r) => isManager(roleOf(r) ?? 'other'))) return why;
  const main = pickMain(table, table.records.filter((r) => roleOf(r) === 'main'));
  if (main === undefined) return why;
  // A main with Python children we cannot place (a pre-fork server we do not know, a pool) may
  // not be the process that serves: let the user choose.
  if (table.children(main).some((c) => c.isPython && roleOf(c) === 'other')) return why;
  const pythons = table.records.filter((r) => r.isPython).length;
  why.set(main.pid, pythons === 1 ? 'only' : 'app');
  return why;
}

/**
 * The main process when there is exactly one; with several, the one in the container's own
 * process tree (under PID 1): `kubectl exec` sessions (a `python3` shell, `manage.py shell`) are
 * started from outside the namespace and have parent 0.
 */
function pickMain(table: ProcessTable, mains: ProcessRecord[]): ProcessRecord | undefined {
  if (mains.length <= 1) return mains[0];
  const inContainerTree = mains.filter((m) => descendsFromPid1(m, table));
  return inContainerTree.length === 1 ? inContainerTree[0] : undefined;
}

function descendsFromPid1(r: ProcessRecord, table: ProcessTable): boolean {
  const seen = new Set<number>();
  for (let p: ProcessRecord | undefined = r; p !== undefined && !seen.has(p.pid); p = table.parent(p)) {
    if (p.pid === 1) return true;
    seen.add(p.pid);
  }
  return false;
}

/**
 * The agent's machine-readable reason why a process is not debuggable (an AgentErrorCode; null
 * when it is debuggable). undefined: unknown (an agent that does not report it yet).
 */
export function reasonCodeOf(process: ProcessRecord): AgentErrorCode | null | undefined {
  return (process as ProcessRecord & { reasonCode?: AgentErrorCode | null }).reasonCode;
}
