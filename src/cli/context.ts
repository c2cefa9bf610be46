/** Turns the shared flags into a Kubectl and a target: the first step of every command. */
import { createKubectl, type Kubectl } from '../kube/kubectl';
import { parseTarget, resolvePods, type Target } from '../kube/targets';
import type { Pod } from '../kube/types';
import type { GlobalFlags, TargetFlags } from './options';

export function kubectlFrom(flags: GlobalFlags): Kubectl {
  const verbose = (flags.v ?? 0) > 0;
  return createKubectl(
    {
      namespace: flags.namespace,
      context: flags.context,
      kubeconfig: flags.kubeconfig,
      cluster: flags.cluster,
      user: flags.user,
      as: flags.as,
      requestTimeout: flags['request-timeout'],
      verbosity: flags.v === undefined ? undefined : String(flags.v),
    },
    { onCall: verbose ? (args) => process.stderr.write(`kubectl ${args.join(' ')}\n`) : undefined },
  );
}

export interface TargetContext {
  kubectl: Kubectl;
  namespace: string;
  target: Target;
}

export interface ResolvedTarget extends TargetContext {
  pods: Pod[];
}

const ALL_PODS: Target = { kind: 'selector', selector: '' };

/** The target, the namespace and the kubectl to ask; allowAll: no TARGET means every pod of the namespace. */
export async function targetContext(flags: GlobalFlags & TargetFlags, opts: { allowAll?: boolean } = {}): Promise<TargetContext> {
  const none = flags.target === undefined && flags.selector === undefined && flags.service === undefined;
  const target = none && opts.allowAll ? ALL_PODS : parseTarget({ target: flags.target, selector: flags.selector, service: flags.service });
  const kubectl = kubectlFrom(flags);
  return { kubectl, namespace: await kubectl.namespace(), target };
}

/** The target's pods (allowAll: no TARGET means every pod of the namespace, as `kubectl get pods`). */
export async function resolveTarget(
  flags: GlobalFlags & TargetFlags,
  opts: { allowAll?: boolean; context?: TargetContext } = {},
): Promise<ResolvedTarget> {
  const context = opts.context ?? (await targetContext(flags, opts));
  return { ...context, pods: await resolvePods(context.kubectl, context.namespace, context.target) };
}
