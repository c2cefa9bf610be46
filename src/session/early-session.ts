/**
 * `debug` opens its agent session before it knows the target's pods: `kubectl exec -i svc/NAME …`
 * lets kubectl pick a pod (its most active one) while we resolve and list the pods ourselves, and
 * the agent lists the processes meanwhile. When kubectl's pod and container are the ones chosen —
 * always so for a target with one pod and one container — the session is kept, which takes the
 * resolve and list round trips off the way to `ready`; otherwise it is closed unused, having done
 * nothing in the pod but read /proc.
 */
import type { ListResult } from '../agent/contract';
import { openAgentSession, type AgentSession } from './agent-session';
import { DEFAULT_CONTAINER_ANNOTATION, containerNames } from './containers';
import { Timeout } from '../kube/errors';
import type { Kubectl } from '../kube/kubectl';
import { RESOURCE, type Target } from './targets';
import type { Pod } from '../kube/types';

export interface EarlySessionOptions {
  agentSource: string;
  /** -c: kubectl exec gets it too */
  container?: string;
  startTimeoutMs?: number;
}

export interface OpenedSession {
  session: AgentSession;
  /** the processes of the container, listed as soon as the agent was up */
  list: Promise<ListResult>;
}

/** Kubernetes' host name of a pod: spec.hostname or the name, cut to 63 characters. */
export function expectedHostname(pod: Pod): string {
  return (pod.spec.hostname || pod.metadata.name).slice(0, 63).replace(/[-.]+$/, '');
}

/** The container `kubectl exec` uses without -c: the default-container annotation, else the first. */
export function kubectlDefaultContainer(pod: Pod): string | undefined {
  const names = containerNames(pod);
  const annotated = pod.metadata.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  return annotated && names.includes(annotated) ? annotated : names[0];
}

/** Is the agent reporting `hostname` running in `pod` (and in no other pod of the target)? */
export function landedIn(hostname: string, pod: Pod, pods: readonly Pod[]): boolean {
  const shortName = hostname.split('.')[0] ?? '';
  const named = pods.filter((p) => expectedHostname(p) === shortName);
  return named.length === 1 && named[0]!.metadata.name === pod.metadata.name;
}

export class EarlySession {
  private claimed = false;
  private opened: OpenedSession | undefined;
  /** the agent did not start within the time allowed (kept: a second exec would wait as long again) */
  private timedOut: Timeout | undefined;

  private constructor(
    private readonly opening: Promise<OpenedSession | undefined>,
    private readonly container: string | undefined,
    private readonly abandon: AbortController,
  ) {
    void opening.then((opened) => (this.opened = opened));
  }

  /** Starts the exec for a Service or workload target; pods and selectors get none. */
  static open(kubectl: Kubectl, namespace: string, target: Target, opts: EarlySessionOptions): EarlySession | undefined {
    if (target.kind === 'selector' || target.kind === 'pod') return undefined;
    const abandon = new AbortController();
    const opening = openAgentSession(
      kubectl,
      { namespace, pod: `${RESOURCE[target.kind]}/${target.name}`, container: opts.container ?? '' },
      { agentSource: opts.agentSource, startTimeoutMs: opts.startTimeoutMs, signal: abandon.signal },
    ).then(
      (session): OpenedSession => {
        const list = session.request({ op: 'list', sampleSeconds: 0 });
        list.catch(() => undefined);
        return { session, list };
      },
      // whatever else went wrong, the regular exec will meet it again and report it
      (error: unknown) => {
        if (error instanceof Timeout && !abandon.signal.aborted) early.timedOut = error;
        return undefined;
      },
    );
    const early: EarlySession = new EarlySession(opening, opts.container, abandon);
    return early;
  }

  /**
   * The session, if it runs in `pod`'s `container`; else closes it. It is waited for only when the
   * target has one pod (kubectl cannot have picked another); with several, it must be up already.
   */
  async claim(pod: Pod, pods: readonly Pod[], container: string): Promise<OpenedSession | undefined> {
    const opened = pods.length === 1 ? await this.opening : this.opened;
    // one pod, and kubectl's exec into it hung: the regular exec into the same pod would hang as long
    if (pods.length === 1 && this.timedOut) {
      this.claimed = true;
      throw this.timedOut;
    }
    const kubectlContainer = this.container ?? kubectlDefaultContainer(pod);
    if (opened && !this.claimed && kubectlContainer === container && landedIn(opened.session.hostname, pod, pods)) {
      this.claimed = true;
      return opened;
    }
    await this.release();
    return undefined;
  }

  /** Closes the session unless it was claimed (then its new owner closes it); kills a start. */
  async release(): Promise<void> {
    if (this.claimed) return;
    this.claimed = true; // nobody may claim it from now on
    this.abandon.abort();
    const opened = await this.opening;
    await opened?.session.close();
  }
}
