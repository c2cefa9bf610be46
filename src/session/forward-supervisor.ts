/**
 * Keeps one `kubectl port-forward` alive for a debug session: when it drops while the pod still
 * lives, it is restarted at once on the same local port; when the pod is gone, the owner is told
 * so it can move to the replacement. No polling: it reacts to the child's exit.
 */
import { KubeError } from '../kube/errors';
import type { Kubectl } from '../kube/kubectl';
import { startPortForward, type PortForward, type PortForwardSpec } from '../kube/port-forward';

export interface SupervisorEvents {
  /** the forward was restored after a drop */
  onRestored?(localPort: number, cause: string): void;
  /** the forward ended for good (pod gone, or restarts keep failing) */
  onLost?(cause: KubeError | undefined): void;
}

const RESTART_ATTEMPTS = 5;
const RESTART_BACKOFF_MS = 200;

export class ForwardSupervisor {
  private current: PortForward | undefined;
  private stopped = false;

  private constructor(
    private readonly kubectl: Kubectl,
    private spec: PortForwardSpec,
    private readonly podAlive: () => Promise<boolean>,
    private readonly events: SupervisorEvents,
  ) {}

  /** Resolves once kubectl printed `Forwarding from`; rejects with kubectl's reason otherwise. */
  static async start(kubectl: Kubectl, spec: PortForwardSpec, podAlive: () => Promise<boolean>, events: SupervisorEvents = {}): Promise<ForwardSupervisor> {
    const supervisor = new ForwardSupervisor(kubectl, spec, podAlive, events);
    await supervisor.launch();
    return supervisor;
  }

  get localPort(): number {
    return this.spec.localPort;
  }

  get remotePort(): number {
    return this.spec.remotePort;
  }

  private async launch(): Promise<void> {
    const forward = await startPortForward(this.kubectl, this.spec);
    if (this.stopped) {
      // stop() ran while this restart was starting: it could not end this one
      await forward.stop();
      return;
    }
    // The first start may have let kubectl pick the port: keep it for every restart.
    this.spec = { ...this.spec, localPort: forward.localPort };
    this.current = forward;
    void forward.exited.then((exit) => {
      if (!this.stopped && this.current === forward) void this.recover(exit.error);
    });
  }

  private async recover(cause: KubeError | undefined): Promise<void> {
    for (let attempt = 0; attempt < RESTART_ATTEMPTS && !this.stopped; attempt++) {
      if (!(await this.podAlive().catch(() => false))) break;
      try {
        await this.launch();
        this.events.onRestored?.(this.spec.localPort, cause?.message ?? 'port-forward ended');
        return;
      } catch (error) {
        cause = error instanceof KubeError ? error : cause;
        await new Promise((resolve) => setTimeout(resolve, RESTART_BACKOFF_MS * (attempt + 1)));
      }
    }
    if (!this.stopped) this.events.onLost?.(cause);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.current?.stop();
  }
}
