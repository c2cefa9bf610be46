/** What `kubectl wand pods` does once its arguments are parsed (the definition is in ./pods). */
import { loadAgentSource } from '../session/agent-runner';
import { discoverEveryContainer, type PodContainers } from '../session/discover-all';
import type { Pod } from '../kube/types';
import { resolvePods } from '../session/targets';
import { podColumns } from '../select/pod-status';
import { renderPodsTable, renderProcessTable } from '../ui/pods-table';
import { podsDocument } from '../ui/pods-json';
import { targetContext } from './context';
import type { PodsArgs } from './pods';

/** A container that could not be listed, on stderr (JSON carries the pod's error only when no container could be). */
function reportContainerErrors(listed: readonly PodContainers[]): void {
  for (const entry of listed) {
    for (const c of entry.containers) if (c.error) process.stderr.write(`${entry.pod.metadata.name}/${c.container}: ${c.error.message}\n`);
  }
}

export async function runPods(args: PodsArgs): Promise<void> {
  const { kubectl, namespace, target } = await targetContext(args, { allowAll: true });
  const pods = await resolvePods(kubectl, namespace, target);
  const listed: PodContainers[] = args['with-pids']
    ? await discoverEveryContainer(kubectl, pods, { container: args.container, agentSource: loadAgentSource() })
    : [];
  for (const entry of listed) {
    if (entry.note) process.stderr.write(`${entry.pod.metadata.name}: ${entry.note}\n`);
  }
  if (args.output === 'json') {
    reportContainerErrors(listed);
    process.stdout.write(`${JSON.stringify(podsDocument(pods, listed, args['with-pids']), null, 2)}\n`);
    return;
  }
  const now = new Date();
  const wide = args.output === 'wide';
  if (!args['with-pids']) {
    process.stdout.write(renderPodsTable(pods.map((pod: Pod) => ({ pod, columns: podColumns(pod, now) })), wide));
    return;
  }
  process.stdout.write(renderProcessTable(listed, wide));
  reportContainerErrors(listed);
  const skipped = pods.length - listed.length;
  if (skipped > 0) process.stderr.write(`${skipped} pod(s) not Running were not inspected\n`);
  if (listed.length > 0 && listed.every((entry) => entry.error)) throw listed[0].error;
}
