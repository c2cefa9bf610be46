/** `kubectl wand doctor` as text: ✔/✘ lines per cluster, pod and process, each failure with its remedy. */
import type { Check, CheckStatus, DoctorReport, PodReport, ProcessReport } from '../select/doctor';
import { countFailures } from '../select/doctor';
import { color } from './colors';

const MARK: Record<CheckStatus, string> = { pass: '✔', fail: '✘', warn: '!', skip: '–', info: '•' };

function mark(status: CheckStatus): string {
  switch (status) {
    case 'pass':
      return color.green(MARK.pass);
    case 'fail':
      return color.red(MARK.fail);
    case 'warn':
      return color.yellow(MARK.warn);
    default:
      return color.dim(MARK[status]);
  }
}

function checkLines(checks: readonly Check[], indent: string): string[] {
  return checks.flatMap((c) => [
    `${indent}${mark(c.status)} ${c.status === 'skip' || c.status === 'info' ? color.dim(c.message) : c.message}`,
    ...(c.remedy && (c.status === 'fail' || c.status === 'warn') ? [`${indent}    ${color.dim('→')} ${c.remedy}`] : []),
  ]);
}

function processLines(p: ProcessReport): string[] {
  const pick = p.recommended ? ' ★' : '';
  return [`  PID ${p.pid}  ${p.role}${pick}  ${p.command}`, ...checkLines(p.checks, '    ')];
}

function podLines(p: PodReport): string[] {
  const container = p.container ? ` (container ${p.container})` : '';
  return [color.bold(`Pod ${p.name}${container}`), ...checkLines(p.checks, '  '), ...p.processes.flatMap(processLines)];
}

function summary(report: DoctorReport): string {
  const failures = countFailures(report);
  if (report.ok) return color.green('Nothing blocks attaching.');
  if (failures > 0) return color.red(`${failures} problem${failures === 1 ? '' : 's'} block${failures === 1 ? 's' : ''} attaching.`);
  return color.yellow('No process could be checked completely.');
}

export function renderChecklist(report: DoctorReport): string {
  const sections = [
    [color.bold(`Cluster (namespace ${report.namespace}, ${report.target})`), ...checkLines(report.cluster, '  ')],
    ...report.pods.map(podLines),
    [summary(report)],
  ];
  return `${sections.map((s) => s.join('\n')).join('\n\n')}\n`;
}
