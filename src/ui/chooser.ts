/** The terminal's Chooser (see src/session/chooser.ts): a prompt on stderr, only on a terminal. */
import type { PodSummary } from '../select/choose';
import { formatAge } from '../select/pod-status';
import type { ClassifiedProcess } from '../select/roles';
import type { Chooser } from '../session/chooser';
import { formatBytes, formatCommand } from './format';
import { canPrompt, promptChoice } from './prompts';

function podLabel(p: PodSummary): string {
  return `${p.name}  ${p.deletionTimestamp ? 'Terminating' : p.phase}${p.ready ? '' : ' (not ready)'}  ${formatAge((Date.now() - Date.parse(p.creationTimestamp)) / 1000)}`;
}

function processLabel(p: ClassifiedProcess): string {
  const star = p.recommended ? '★ ' : '  ';
  return `${star}PID ${p.pid}  ${p.role}  ${p.cpuPercent.toFixed(1)}%  ${formatBytes(p.rssBytes)}  ${formatAge(p.uptimeSeconds)}  ${formatCommand(p.argv, 60)}`;
}

export function terminalChooser(): Chooser {
  return {
    canAsk: canPrompt(),
    pickPod: (candidates) => promptChoice('Which pod?', candidates.map((p) => ({ label: podLabel(p), value: p }))),
    pickProcess: (candidates) => promptChoice('Which process?', candidates.map((p) => ({ label: processLabel(p), value: p }))),
  };
}
