/**
 * TARGET → pods. `parseTarget` is pure; `resolvePods` asks kubectl with the fewest calls:
 * a pod or a selector costs one call, a Service or workload two (the object, then its pods).
 */
import { UnknownResourceType } from '../kube/errors';
import { TARGET } from '../remedies';
import { InvalidTarget, NoPods, NoSelector } from './errors';
import type { Kubectl } from '../kube/kubectl';
import type { LabelSelector, LabelSelectorRequirement, List, Pod, Service, Workload } from '../kube/types';

export type WorkloadKind = 'deployment' | 'statefulset' | 'replicaset' | 'daemonset' | 'job';

export type Target =
  | { kind: 'pod'; name: string }
  | { kind: 'service'; name: string }
  | { kind: WorkloadKind; name: string }
  | { kind: 'selector'; selector: string };

/** What the CLI collected: the positional TARGET, -l/--selector, -s/--service. */
export interface TargetInput {
  target?: string;
  selector?: string;
  service?: string;
}

const TYPE_ALIASES: Record<string, Exclude<Target['kind'], 'selector'>> = {
  po: 'pod',
  pod: 'pod',
  pods: 'pod',
  svc: 'service',
  service: 'service',
  services: 'service',
  deploy: 'deployment',
  deployment: 'deployment',
  deployments: 'deployment',
  sts: 'statefulset',
  statefulset: 'statefulset',
  statefulsets: 'statefulset',
  rs: 'replicaset',
  replicaset: 'replicaset',
  replicasets: 'replicaset',
  ds: 'daemonset',
  daemonset: 'daemonset',
  daemonsets: 'daemonset',
  job: 'job',
  jobs: 'job',
};

/** kubectl resource names used to fetch each kind (group-qualified so CRDs cannot shadow them). */
export const RESOURCE: Record<Exclude<Target['kind'], 'selector'>, string> = {
  pod: 'pods',
  service: 'services',
  deployment: 'deployments.apps',
  statefulset: 'statefulsets.apps',
  replicaset: 'replicasets.apps',
  daemonset: 'daemonsets.apps',
  job: 'jobs.batch',
};

const GROUP_OF: Partial<Record<Target['kind'], string>> = {
  deployment: 'apps',
  statefulset: 'apps',
  replicaset: 'apps',
  daemonset: 'apps',
  job: 'batch',
};

export function parseTarget(input: TargetInput): Target {
  const given = [input.target, input.selector, input.service].filter((value) => value !== undefined);
  if (given.length === 0) {
    throw new InvalidTarget('no target given', TARGET.none);
  }
  if (given.length > 1) {
    throw new InvalidTarget('give only one of TARGET, -l/--selector and -s/--service', TARGET.several);
  }
  if (input.selector !== undefined) return parseSelectorTarget(input.selector);
  if (input.service !== undefined) return { kind: 'service', name: checkedName(input.service, 'service') };
  return parseTypedName(input.target!);
}

function parseSelectorTarget(selector: string): Target {
  const trimmed = selector.trim();
  if (!trimmed) throw new InvalidTarget('empty label selector', TARGET.emptySelector);
  return { kind: 'selector', selector: trimmed };
}

function parseTypedName(target: string): Target {
  const slash = target.indexOf('/');
  if (slash < 0) return { kind: 'pod', name: checkedName(target, 'pod') };
  const type = target.slice(0, slash);
  const kind = kindOfType(type);
  return { kind, name: checkedName(target.slice(slash + 1), type) };
}

/** `deploy`, `Deployment`, `deployments.apps` → deployment; anything else is an error. */
function kindOfType(type: string): Exclude<Target['kind'], 'selector'> {
  const [base = '', group] = type.toLowerCase().split(/\.(.*)/s);
  const kind = TYPE_ALIASES[base];
  const groupOk = group === undefined || (kind !== undefined && (GROUP_OF[kind] ?? '') === group);
  if (!kind || !groupOk) {
    throw new UnknownResourceType(
      type,
      `kubectl wand doesn't have a resource type "${type}"`,
      TARGET.unknownType,
      undefined,
      'usage',
    );
  }
  return kind;
}

function checkedName(name: string, what: string): string {
  if (!name) throw new InvalidTarget(`missing name after "${what}/"`, TARGET.missingName(what));
  if (name.includes('/')) throw new InvalidTarget(`invalid ${what} name "${name}"`, TARGET.invalidName);
  return name;
}

/** "service/web", "pod/web-1", "-l app=web": how messages name a target. */
export function describeTarget(target: Target): string {
  return target.kind === 'selector' ? `-l ${target.selector}` : `${target.kind}/${target.name}`;
}

// ---------------------------------------------------------------------------------------------

export async function resolvePods(kubectl: Kubectl, namespace: string, target: Target): Promise<Pod[]> {
  switch (target.kind) {
    case 'pod':
      return [await getPod(kubectl, namespace, target.name)];
    case 'selector':
      return podsMatching(kubectl, namespace, target.selector, undefined);
    case 'service': {
      const service = await getObject<Service>(kubectl, namespace, RESOURCE.service, target.name);
      return podsMatching(kubectl, namespace, serviceSelector(service), describeTarget(target));
    }
    default: {
      const workload = await getObject<Workload>(kubectl, namespace, RESOURCE[target.kind], target.name);
      const selector = workloadSelector(target.kind, workload);
      return podsMatching(kubectl, namespace, selector, describeTarget(target));
    }
  }
}

/**
 * The kubectl flags that select the target's pods, for a watch: `-l SELECTOR`, or a field
 * selector on the name for a single pod (a Service or workload costs one call, for its selector).
 */
export async function podQueryOf(kubectl: Kubectl, namespace: string, target: Target): Promise<string[]> {
  switch (target.kind) {
    case 'pod':
      return ['--field-selector', `metadata.name=${target.name}`];
    case 'selector':
      return ['-l', target.selector];
    case 'service':
      return ['-l', serviceSelector(await getObject<Service>(kubectl, namespace, RESOURCE.service, target.name))];
    default:
      return ['-l', workloadSelector(target.kind, await getObject<Workload>(kubectl, namespace, RESOURCE[target.kind], target.name))];
  }
}

function getPod(kubectl: Kubectl, namespace: string, name: string): Promise<Pod> {
  return kubectl.json<Pod>(['get', 'pod', name, '-n', namespace, '-o', 'json'], { hint: { pod: name } });
}

function getObject<T>(kubectl: Kubectl, namespace: string, resource: string, name: string): Promise<T> {
  return kubectl.json<T>(['get', resource, name, '-n', namespace, '-o', 'json']);
}

async function podsMatching(
  kubectl: Kubectl,
  namespace: string,
  selector: string,
  source: string | undefined,
): Promise<Pod[]> {
  const list = await kubectl.json<List<Pod>>(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json']);
  const pods = list.items ?? [];
  if (pods.length === 0) throw new NoPods(selector, namespace, source);
  return pods;
}

/** A Service's pod selector; an ExternalName Service is taken to be a Knative Service. */
export function serviceSelector(service: Service): string {
  const name = service.metadata.name;
  if (service.spec.type === 'ExternalName') return `serving.knative.dev/service=${name}`;
  const selector = matchLabelsSelector(service.spec.selector);
  if (!selector) throw new NoSelector('service', name);
  return selector;
}

export function workloadSelector(kind: WorkloadKind, workload: Workload): string {
  const selector = labelSelectorString(workload.spec.selector);
  if (!selector) throw new NoSelector(kind, workload.metadata.name);
  return selector;
}

/** A metav1.LabelSelector in kubectl's -l syntax: `a=b,env in (x,y),!legacy`. */
export function labelSelectorString(selector: LabelSelector | undefined): string {
  if (!selector) return '';
  const parts = [matchLabelsSelector(selector.matchLabels), ...(selector.matchExpressions ?? []).map(requirement)];
  return parts.filter(Boolean).join(',');
}

function matchLabelsSelector(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

function requirement({ key, operator, values = [] }: LabelSelectorRequirement): string {
  switch (operator) {
    case 'In':
      return `${key} in (${values.join(',')})`;
    case 'NotIn':
      return `${key} notin (${values.join(',')})`;
    case 'Exists':
      return key;
    case 'DoesNotExist':
      return `!${key}`;
  }
}
