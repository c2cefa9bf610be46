/** `?watch=true`: newline-delimited JSON events, replayed from a resourceVersion, then live. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Kind, KubeObject } from './objects';
import { gone } from './status';
import { matchesListOptions, type ListOptions, type ObjectStore, type StoreEvent } from './store';

export interface WatchRequest {
  kind: Kind;
  options: ListOptions;
  /** '' or '0' start with ADDED events for every existing object, as the real server does */
  resourceVersion: string;
  timeoutSeconds?: number;
  /** `sendInitialEvents=true` (a WatchList, client-go ≥ 1.35 by default): end the initial events with a bookmark */
  sendInitialEvents?: boolean;
  /** the watched kind's apiVersion, for that bookmark */
  apiVersion: string;
  /** turns each object into what the client asked for (e.g. a one-row Table) */
  render(object: KubeObject): object;
}

const TYPES: Record<StoreEvent['type'], string> = { added: 'ADDED', modified: 'MODIFIED', deleted: 'DELETED' };

export function serveWatch(req: IncomingMessage, res: ServerResponse, store: ObjectStore, watch: WatchRequest): void {
  const matches = matchesListOptions(watch.options);
  const wanted = (o: KubeObject) => o.kind === watch.kind && matches(o);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' });
  res.flushHeaders();
  const send = (type: string, object: object) => res.write(`${JSON.stringify({ type, object })}\n`);
  const sendEvent = (e: StoreEvent) => wanted(e.object) && send(TYPES[e.type], watch.render(e.object));

  if (watch.sendInitialEvents) {
    // KEP-3157 watch-list (staging/src/k8s.io/apiserver/pkg/storage/cacher/cacher.go): the current
    // objects as ADDED, then a BOOKMARK annotated k8s.io/initial-events-end, then live events.
    // client-go's reflector waits for that bookmark before it reports anything.
    for (const object of store.list(watch.kind, watch.options)) send('ADDED', watch.render(object));
    send('BOOKMARK', {
      kind: watch.kind,
      apiVersion: watch.apiVersion,
      metadata: { resourceVersion: store.resourceVersion, annotations: { 'k8s.io/initial-events-end': 'true' } },
    });
  } else if (watch.resourceVersion === '' || watch.resourceVersion === '0') {
    for (const object of store.list(watch.kind, watch.options)) send('ADDED', watch.render(object));
  } else {
    const missed = store.eventsSince(Number(watch.resourceVersion));
    if (!missed) {
      send('ERROR', gone(`too old resource version: ${watch.resourceVersion} (${store.resourceVersion})`).status);
      res.end();
      return;
    }
    missed.forEach(sendEvent);
  }
  const unsubscribe = store.subscribe(sendEvent);
  const finish = () => {
    unsubscribe();
    clearTimeout(timer);
    res.end();
  };
  const timer = setTimeout(finish, (watch.timeoutSeconds ?? 1800) * 1000);
  req.on('close', finish);
}
