/**
 * What a pod uses and runs, in a prompt line: CPU and memory from metrics.k8s.io's PodMetrics
 * (Kubernetes quantities) or, when the cluster serves no metrics, summed from the agent's samples;
 * and its Python processes in a few words ("uvicorn --reload worker", "gunicorn 2 workers").
 */
import { serverName } from './describe';
import { isInfrastructure, isManager, type ClassifiedProcess } from './roles';

export interface PodUsage {
  /** millicores */
  cpuMillis: number;
  memoryBytes: number;
  source: 'metrics' | 'agent';
}

const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/** A Kubernetes resource.Quantity ("250m", "1234567n", "20Mi", "1.5G", "1e3") as a number; NaN when malformed. */
export function parseQuantity(text: string): number {
  const match = /^([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(text.trim());
  if (!match) return Number.NaN;
  const [, number, exponent, suffix = ''] = match;
  if (exponent) return Number(`${number}${exponent}`);
  return Number(number) * (BINARY[suffix] ?? DECIMAL[suffix] ?? Number.NaN);
}

/** PodMetrics as served by metrics.k8s.io/v1beta1 (only the fields read here). */
export interface PodMetricsLike {
  metadata: { name: string };
  containers: Array<{ name: string; usage: { cpu?: string; memory?: string } }>;
}

/** Sums a PodMetrics' containers, or only `container` when given; null when it is not measured. */
export function usageFromMetrics(metrics: PodMetricsLike, container?: string): PodUsage | null {
  const measured = metrics.containers.filter((c) => container === undefined || c.name === container);
  if (measured.length === 0) return null;
  const cpu = measured.reduce((sum, c) => sum + parseQuantity(c.usage.cpu ?? '0'), 0);
  const memory = measured.reduce((sum, c) => sum + parseQuantity(c.usage.memory ?? '0'), 0);
  if (Number.isNaN(cpu) || Number.isNaN(memory)) return null;
  return { cpuMillis: Math.round(cpu * 1000), memoryBytes: memory, source: 'metrics' };
}

/** The agent's own samples (one container's processes): CPU % of one core → millicores, RSS summed. */
export function usageFromProcesses(processes: readonly Pick<ClassifiedProcess, 'cpuPercent' | 'rssBytes'>[]): PodUsage {
  return {
    cpuMillis: Math.round(processes.reduce((sum, p) => sum + p.cpuPercent * 10, 0)),
    memoryBytes: processes.reduce((sum, p) => sum + p.rssBytes, 0),
    source: 'agent',
  };
}

/** "250m", like `kubectl top`. */
export function formatMillicores(millis: number): string {
  return `${Math.round(millis)}m`;
}

/**
 * The pod's Python processes in a few words: the server and what `debug` would attach to
 * ("uvicorn --reload worker", "gunicorn 2 workers", "python main"), else the Python processes'
 * roles, else "no Python".
 */
export function summarizeProcesses(processes: readonly ClassifiedProcess[]): string {
  const recommended = processes.filter((p) => p.recommended);
  const [first] = recommended;
  if (first !== undefined) {
    const manager = processes.find((p) => p.pid === first.ppid && isManager(p.role));
    const roles = recommended.length > 1 ? `${recommended.length} ${first.role}s` : first.role;
    return `${serverName(manager, first.framework)} ${roles}`;
  }
  const python = processes.filter((p) => p.isPython && !isInfrastructure(p.role));
  if (python.length === 0) return 'no Python';
  const counts = new Map<string, number>();
  for (const p of python) counts.set(p.role, (counts.get(p.role) ?? 0) + 1);
  return [...counts].map(([role, n]) => (n > 1 ? `${n} ${role}s` : role)).join(', ');
}
