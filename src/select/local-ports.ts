/**
 * `debug --all-pods`: the local port of every (pod, worker) forward (a pod by its uid), handed out
 * in order from the first one (5679, 5680, …). A pod keeps its ports while it is debugged (a
 * reconnect gets the same ones back); a dropped pod's ports are freed and the lowest free port is
 * handed out next.
 */
export class LocalPorts {
  private readonly byKey = new Map<string, number>();
  private readonly used = new Set<number>();

  /** `first` 0: every forward picks a free port itself (kubectl port-forward :REMOTE) */
  constructor(private readonly first: number) {}

  portFor(pod: string, index: number): number {
    if (this.first === 0) return 0;
    const key = `${pod}\u0000${index}`;
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    let port = this.first;
    while (this.used.has(port)) port++;
    if (port > 65535) throw new RangeError(`no local port left from ${this.first}`);
    this.byKey.set(key, port);
    this.used.add(port);
    return port;
  }

  release(pod: string): void {
    for (const [key, port] of this.byKey) {
      if (key.startsWith(`${pod}\u0000`)) {
        this.byKey.delete(key);
        this.used.delete(port);
      }
    }
  }
}
