/** The CompletionLister that asks kubectl (through createKubectl: no shell, bounded calls). */
import { createKubectl, type KubectlOptions } from '../kube/kubectl';
import { resolvePods } from '../session/targets';
import type { Candidate, CompletionLister, KubeScope } from './completion';

/** A TAB press should not hang: each kubectl call gets this long. */
export const COMPLETION_TIMEOUT_MS = 5_000;

export function kubectlLister(options: KubectlOptions = {}): CompletionLister {
  const kubectlFor = (scope: KubeScope) => createKubectl({ ...scope }, { defaultTimeoutMs: COMPLETION_TIMEOUT_MS, ...options });

  return {
    async names(scope, resource) {
      const namespace = scope.namespace ? ['-n', scope.namespace] : [];
      const { stdout } = await kubectlFor(scope).run(['get', resource, '-o', 'name', ...namespace]);
      // `service/api`, `deployment.apps/web`: the name is after the slash
      return lines(stdout).map((line) => line.slice(line.indexOf('/') + 1));
    },

    async kubeconfig(scope, list) {
      if (list === 'contexts') return lines((await kubectlFor(scope).run(['config', 'get-contexts', '-o', 'name'])).stdout);
      const { stdout } = await kubectlFor(scope).run(['config', list === 'clusters' ? 'get-clusters' : 'get-users']);
      return lines(stdout).filter((line, i) => !(i === 0 && line === 'NAME'));
    },

    async pods(scope, target) {
      const kubectl = kubectlFor(scope);
      const pods = await resolvePods(kubectl, await kubectl.namespace(), target);
      return pods.map((pod) => pod.metadata.name);
    },

    async containers(scope, target) {
      const kubectl = kubectlFor(scope);
      const pods = await resolvePods(kubectl, await kubectl.namespace(), target);
      const seen = new Map<string, Candidate>();
      for (const container of pods.flatMap((pod) => pod.spec.containers)) {
        if (!seen.has(container.name)) seen.set(container.name, { value: container.name, description: container.image });
      }
      return [...seen.values()];
    },
  };
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}
