/** The terminal's Chooser (see src/session/chooser.ts): a prompt on stderr, only on a terminal. */
import type { PodSummary } from '../select/choose';
import { formatAge } from '../select/pod-status';
import { formatMillicores } from '../select/pod-usage';
import type { ClassifiedProcess } from '../select/roles';
import type { Chooser } from '../session/chooser';
import type { PodDetails } from '../session/pod-details';
import { formatBytes, formatCommand, oneLine } from './format';
import { canPrompt, promptChoice } from './prompts';
import { renderTable, type Column } from './table';

interface PodLine {
  pod: PodSummary;
  details: PodDetails | undefined;
}

/** Aligned like `kubectl get pods`; CPU and memory as `kubectl top pod` (from the agent when marked ~). */
const POD_COLUMNS: Column<PodLine>[] = [
  { header: 'NAME', value: (l) => l.pod.name },
  { header: 'READY', value: (l) => (l.pod.deletionTimestamp ? 'Terminating' : l.pod.ready ? 'ready' : 'not ready') },
  { header: 'RESTARTS', value: (l) => (l.details ? String(l.details.restarts) : '-') },
  { header: 'AGE', value: (l) => formatAge((Date.now() - Date.parse(l.pod.creationTimestamp)) / 1000) },
  { header: 'CPU', value: (l) => (l.details?.usage ? `${l.details.usage.source === 'agent' ? '~' : ''}${formatMillicores(l.details.usage.cpuMillis)}` : '-') },
  { header: 'MEMORY', value: (l) => (l.details?.usage ? formatBytes(l.details.usage.memoryBytes) : '-') },
  { header: 'PYTHON', value: (l) => oneLine(l.details?.processes ?? '') },
];

/** The table's lines without its header, one per pod, and the header as the prompt's second line. */
function podLines(candidates: readonly PodSummary[], details?: ReadonlyMap<string, PodDetails>): { header: string; lines: string[] } {
  const rows = candidates.map((pod) => ({ pod, details: details?.get(pod.name) }));
  const [header = '', ...lines] = renderTable(POD_COLUMNS, rows).trimEnd().split('\n');
  return { header, lines };
}

const PROCESS_COLUMNS: Column<ClassifiedProcess>[] = [
  { header: 'PID', value: (p) => `${p.recommended ? '★' : ' '} ${p.pid}` },
  { header: 'ROLE', value: (p) => p.role },
  { header: 'CPU', value: (p) => `${p.cpuPercent.toFixed(1)}%` },
  { header: 'MEMORY', value: (p) => formatBytes(p.rssBytes) },
  { header: 'UPTIME', value: (p) => formatAge(p.uptimeSeconds) },
  { header: 'COMMAND', value: (p) => formatCommand(p.argv, 60) },
];

export function terminalChooser(): Chooser {
  return {
    canAsk: canPrompt(),
    pickPod: (candidates, details) => {
      const { header, lines } = podLines(candidates, details);
      return promptChoice('Which pod?', header, candidates.map((p, i) => ({ name: p.name, label: lines[i]!, value: p })));
    },
    pickProcess: (candidates) => {
      const [header = '', ...lines] = renderTable(PROCESS_COLUMNS, [...candidates]).trimEnd().split('\n');
      return promptChoice('Which process?', header, candidates.map((p, i) => ({ name: `PID ${p.pid}`, label: lines[i]!, value: p })));
    },
  };
}
