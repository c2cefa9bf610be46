/** Tables of `kubectl wand pods`: pods alone, or pods with their Python processes. */
import { shownProcesses } from './pods-json';
import type { PodContainers } from '../session/discover-all';
import type { Pod } from '../kube/types';
import type { PodColumns } from '../select/pod-status';
import { formatAge } from '../select/pod-status';
import { processRoute } from '../select/process-route';
import type { ClassifiedProcess } from '../select/roles';
import { color } from './colors';
import { formatBytes, formatCommand, oneLine } from './format';
import { renderTable, type Column } from './table';

interface PodRow {
  pod: Pod;
  columns: PodColumns;
}

function statusStyle(text: string, row: PodRow): string {
  if (row.columns.status === 'Running') return color.green(text);
  return ['Pending', 'ContainerCreating', 'Terminating'].includes(row.columns.status) ? color.yellow(text) : color.red(text);
}

export function renderPodsTable(rows: PodRow[], wide: boolean): string {
  const columns: Column<PodRow>[] = [
    { header: 'NAME', value: (r) => r.pod.metadata.name },
    { header: 'READY', value: (r) => r.columns.ready },
    { header: 'STATUS', value: (r) => r.columns.status, style: statusStyle },
    { header: 'RESTARTS', value: (r) => r.columns.restarts },
    { header: 'AGE', value: (r) => r.columns.age },
    { header: 'NODE', value: (r) => r.pod.spec.nodeName ?? '<none>' },
  ];
  if (wide) columns.push({ header: 'CONTAINERS', value: (r) => r.pod.spec.containers.map((c) => c.name).join(',') });
  return renderTable(columns, rows);
}

interface ProcessRow {
  pod: string;
  container: string;
  process: ClassifiedProcess;
}

/** ★ marks what `debug` would pick, with the reason in one word. */
function pick(p: ClassifiedProcess): string {
  return p.recommended ? `★ ${p.why ?? ''}`.trim() : '';
}

function note(p: ClassifiedProcess): string {
  if (p.debugpyPort !== null) return `debugpy listening on ${p.debugpyPort}`;
  if (!p.isPython) return '';
  if (p.debuggable) return '';
  const why = p.reason ?? 'unknown';
  return processRoute(p) === 'ephemeral' ? `through an ephemeral container (kubectl exec: ${why})` : `not debuggable: ${why}`;
}

/** Every container's processes, the container `debug` would use first (as listed in the pod otherwise). */
export function processRows(listed: readonly PodContainers[]): ProcessRow[] {
  return listed.flatMap((l) => {
    const ordered = [...l.containers].sort((a, b) => Number(b.container === l.defaultContainer) - Number(a.container === l.defaultContainer));
    return ordered.flatMap((c) => shownProcesses(c.processes).map((process) => ({ pod: l.pod.metadata.name, container: c.container, process })));
  });
}

export function renderProcessTable(listed: readonly PodContainers[], wide: boolean): string {
  const rows = processRows(listed);
  const columns: Column<ProcessRow>[] = [
    { header: 'POD', value: (r) => r.pod },
    { header: 'CONTAINER', value: (r) => r.container },
    { header: 'PID', value: (r) => String(r.process.pid) },
    ...(wide ? [{ header: 'PPID', value: (r: ProcessRow) => String(r.process.ppid) }, { header: 'USER', value: (r: ProcessRow) => r.process.user }] : []),
    { header: 'ROLE', value: (r) => r.process.role },
    { header: 'PICK', value: (r) => pick(r.process), style: (t) => color.cyan(t) },
    { header: 'PYTHON', value: (r) => r.process.python ?? '-' },
    { header: 'CPU', value: (r) => `${r.process.cpuPercent.toFixed(1)}%` },
    { header: 'MEM', value: (r) => formatBytes(r.process.rssBytes) },
    { header: 'UPTIME', value: (r) => formatAge(r.process.uptimeSeconds) },
    ...(wide ? [{ header: 'CWD', value: (r: ProcessRow) => oneLine(r.process.cwd ?? '?') }] : []),
    { header: 'COMMAND', value: (r) => formatCommand(r.process.argv, wide ? 200 : 60) },
    { header: 'NOTE', value: (r) => note(r.process), style: (t) => color.yellow(t) },
  ];
  if (rows.length === 0) return '';
  return renderTable(columns, rows);
}
