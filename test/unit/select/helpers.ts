import { readFileSync } from 'fs';
import { join } from 'path';
import type { ProcessRecord } from '../../../src/agent/contract';

/** A process table recorded by fixtures/record/record.sh. */
export function fixture(name: string): ProcessRecord[] {
  return JSON.parse(readFileSync(join(__dirname, 'fixtures', `${name}.json`), 'utf8')) as ProcessRecord[];
}

const PYTHON_EXE = /(^|\/)python\d*(\.\d+)?t?$/;

/** A ProcessRecord for hand-made tables; Python-ness follows argv[0] unless given. */
export function proc(pid: number, ppid: number, argv: string[], extra: Partial<ProcessRecord> = {}): ProcessRecord {
  const isPython = extra.isPython ?? PYTHON_EXE.test(argv[0] ?? '');
  return {
    pid,
    ppid,
    uid: 0,
    user: 'root',
    argv,
    exe: isPython ? '/usr/bin/python3.14' : argv[0] !== undefined ? `/usr/bin/${argv[0].replace(/^.*\//, '')}` : null,
    isPython,
    python: isPython ? '3.14.8' : null,
    cpuPercent: 0,
    rssBytes: 1 << 20,
    uptimeSeconds: 100,
    cwd: '/app',
    env: {},
    xOptions: [],
    debuggable: isPython,
    reason: isPython ? null : 'not a Python process',
    reasonCode: isPython ? null : 'not-python',
    debugpyPort: null,
    ...extra,
  };
}

export const SPAWN = ['/usr/bin/python3', '-B', '-c', 'from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=5, pipe_handle=7)', '--multiprocessing-fork'];
export const TRACKER = ['/usr/bin/python3', '-B', '-c', 'from multiprocessing.resource_tracker import main;main(4)'];
