/** Turns the shared flags into a Kubectl and a target: the first step of every command. */
import { createKubectl, type Kubectl } from '../kube/kubectl';
import type { TargetContext } from '../session/choose-target';
import { chooseOneProcess, type OneProcess } from '../session/one-process';
import { parseTarget, type Target } from '../session/targets';
import { terminalChooser } from '../ui/chooser';
import { color } from '../ui/colors';
import type { ChooseFlags, GlobalFlags, TargetFlags } from './options';

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

const ALL_PODS: Target = { kind: 'selector', selector: '' };

/** The target, the namespace and the kubectl to ask; allowAll: no TARGET means every pod of the namespace. */
export async function targetContext(flags: GlobalFlags & TargetFlags, opts: { allowAll?: boolean } = {}): Promise<TargetContext> {
  const none = flags.target === undefined && flags.selector === undefined && flags.service === undefined;
  const target = none && opts.allowAll ? ALL_PODS : parseTarget({ target: flags.target, selector: flags.selector, service: flags.service });
  const kubectl = kubectlFrom(flags);
  return { kubectl, namespace: await kubectl.namespace(), target };
}

/**
 * exec and stack: the one process to work on (`readOnly`: the command never runs code in it). Says
 * which and why on stderr unless `quiet` (stdout carries only the command's own output).
 */
export async function oneProcessFor(flags: ChooseFlags & { quiet: boolean }, opts: { readOnly: boolean }): Promise<OneProcess> {
  const one = await chooseOneProcess(await targetContext(flags), flags, opts, terminalChooser());
  if (!flags.quiet) process.stderr.write(`${color.dim(one.note)}\n`);
  return one;
}
