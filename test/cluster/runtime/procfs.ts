/** Reading the host's process table from /proc: parents, CPU time and resident memory. */
import * as fs from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ: fixed at 100 on every Linux ABI we run on
const PAGE_BYTES = 4096;

export interface ProcEntry {
  pid: number;
  ppid: number;
  /** user + system CPU time, in clock ticks */
  cpuTicks: number;
  rssBytes: number;
}

export type ProcessTable = Map<number, ProcEntry>;

function readEntry(pid: number): ProcEntry | null {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // the command name (field 2) may hold spaces and parentheses: split after its last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    pid,
    ppid: Number(fields[1]),
    cpuTicks: Number(fields[11]) + Number(fields[12]),
    rssBytes: Number(fields[21]) * PAGE_BYTES,
  };
}

export function readProcessTable(): ProcessTable {
  const table: ProcessTable = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const entry = readEntry(Number(name));
    if (entry) table.set(entry.pid, entry);
  }
  return table;
}

/** the given roots (when alive) and all their descendants */
export function processTree(table: ProcessTable, roots: number[]): number[] {
  const children = new Map<number, number[]>();
  for (const { pid, ppid } of table.values()) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const found: number[] = [];
  const queue = roots.filter((pid) => table.has(pid));
  while (queue.length) {
    const pid = queue.shift()!;
    found.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

export function cpuNanoCores(before: ProcessTable, after: ProcessTable, pids: number[], seconds: number): number {
  let ticks = 0;
  for (const pid of pids) {
    const b = before.get(pid);
    const a = after.get(pid);
    if (a) ticks += a.cpuTicks - (b?.cpuTicks ?? a.cpuTicks);
  }
  return Math.round(((ticks / TICKS_PER_SECOND) / seconds) * 1e9);
}

export function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** true once `pid` runs a program other than the given launchers (it has exec'd its command) */
export function runsBeyond(pid: number, launchers: string[]): boolean {
  // by file identity, not by name: a container's /bin/sh and the host's are both "/usr/bin/dash"
  // once the container's root is its namespace's root mount
  try {
    const exe = fs.statSync(`/proc/${pid}/exe`);
    return !launchers.some((launcher) => {
      const tool = fs.statSync(launcher);
      return tool.dev === exe.dev && tool.ino === exe.ino;
    });
  } catch {
    return true; // a zombie: it did run (or failed to run) its command
  }
}

interface ChildWaiter {
  parent: number;
  ready: (pid: number) => boolean;
  resolve: (pid: number | null) => void;
  deadline: number;
  gaveUp: () => boolean;
}

/**
 * Finds the forked child of a launcher process (unshare --fork, nsenter -p) once `ready` says so.
 * The kernel here has no /proc/<pid>/task/<pid>/children, so one /proc scan per tick serves every waiter.
 */
export class ChildWatcher {
  private waiters: ChildWaiter[] = [];
  private timer: NodeJS.Timeout | null = null;

  /** resolves null when `gaveUp()` turns true (the parent exited) or after timeoutMs */
  childOf(parent: number, gaveUp: () => boolean, ready: (pid: number) => boolean, timeoutMs = 30_000): Promise<number | null> {
    return new Promise((resolve) => {
      this.waiters.push({ parent, ready, resolve, gaveUp, deadline: Date.now() + timeoutMs });
      this.timer ??= setTimeout(() => this.tick(), 0);
    });
  }

  private tick(): void {
    this.timer = null;
    const table = readProcessTable();
    this.waiters = this.waiters.filter((w) => {
      const child = [...table.values()].find((e) => e.ppid === w.parent);
      if (child && w.ready(child.pid)) w.resolve(child.pid);
      else if (w.gaveUp() || Date.now() > w.deadline) w.resolve(null);
      else return true;
      return false;
    });
    if (this.waiters.length) this.timer = setTimeout(() => this.tick(), 3);
  }
}
