/**
 * pods/exec and pods/portforward: the checks a real API server makes before upgrading, then a
 * hand-off to the protocol layer, which only moves bytes. Sessions are kept per pod for tests.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ExecOptions, ServeExec, ServePortForward, StreamSession } from '../protocol/api';
import type { PodRuntime } from '../runtime/types';
import { authenticate, isAllowed, type User } from './auth';
import { assertContainerRunning, assertRunning, KubeletRefusal, pickContainer } from './containers';
import { parseResourcePath } from './discovery';
import type { Pod } from './objects';
import { ApiError, badRequest, forbidden, internalError, notFound, pathNotFound, unauthorized } from './status';
import type { ObjectStore } from './store';

export interface Upgrades {
  exec: ServeExec;
  portForward: ServePortForward;
}

/** 'ok' proceeds, 'drop' cuts the connection before any reply, a number delays by that many ms. */
export type HookVerdict = 'ok' | 'drop' | number;

export interface ApiHooks {
  beforeExec?(podName: string, command: string[]): HookVerdict | Promise<HookVerdict>;
  beforePortForward?(podName: string): HookVerdict | Promise<HookVerdict>;
}

interface SessionEntry {
  namespace: string;
  pod: string;
  type: 'exec' | 'attach' | 'portforward';
  session: StreamSession;
}

export class SessionRegistry {
  private readonly entries = new Set<SessionEntry>();

  add(entry: SessionEntry): void {
    this.entries.add(entry);
    void entry.session.done.finally(() => this.entries.delete(entry));
  }

  list(podName?: string, namespace?: string): SessionEntry[] {
    return [...this.entries].filter((e) => (podName === undefined || e.pod === podName) && (namespace === undefined || e.namespace === namespace));
  }

  /** Destroys every live session of the pod; returns how many there were. */
  dropAll(podName: string, namespace?: string): number {
    const victims = this.list(podName, namespace);
    for (const e of victims) {
      e.session.destroy();
      this.entries.delete(e);
    }
    return victims.length;
  }
}

export interface UpgradeContext {
  store: ObjectStore;
  runtime: Pick<PodRuntime, 'exec' | 'attach' | 'dialPort'>;
  upgrades: Upgrades;
  hooks: ApiHooks;
  sessions: SessionRegistry;
  users: User[];
}

function refuse(socket: Duplex, error: ApiError): void {
  const body = JSON.stringify(error.status);
  const { code } = error.status;
  socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code]}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function refuseAsKubelet(socket: Duplex, text: string): void {
  socket.end(`HTTP/1.1 500 ${STATUS_CODES[500]}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}

function flag(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  return value === 'true' || value === '1';
}

/** Applies a hook's verdict; false when the connection was dropped. */
async function obey(verdict: HookVerdict | undefined, socket: Duplex): Promise<boolean> {
  if (verdict === 'drop') {
    socket.destroy();
    return false;
  }
  if (typeof verdict === 'number' && verdict > 0) await new Promise((resolve) => setTimeout(resolve, verdict));
  return !socket.destroyed;
}

/** The pod a stream request addresses, after authentication and authorization. */
function authorizedPod(ctx: UpgradeContext, req: IncomingMessage, url: URL): { pod: Pod; type: 'exec' | 'attach' | 'portforward' } {
  const user = authenticate(req, ctx.users);
  if (!user) throw unauthorized();
  const path = parseResourcePath(url.pathname);
  const type = path?.subresource;
  if (!path || path.group !== '' || path.resource !== 'pods' || !path.namespace || !path.name || (type !== 'exec' && type !== 'attach' && type !== 'portforward')) {
    throw pathNotFound();
  }
  const { namespace, name } = path;
  if (!isAllowed(user, { verb: 'create', resource: 'pods', subresource: type })) {
    throw forbidden({ user: user.name, verb: 'create', resource: 'pods', subresource: type, group: '', namespace, name });
  }
  const pod = ctx.store.get('Pod', namespace, name);
  if (!pod) throw notFound('pods', '', name);
  return { pod, type };
}

async function startExec(ctx: UpgradeContext, req: IncomingMessage, socket: Duplex, head: Buffer, pod: Pod, query: URLSearchParams) {
  assertRunning(pod, 'exec');
  const container = pickContainer(pod, query.get('container'));
  assertContainerRunning(pod, container);
  const command = query.getAll('command');
  if (command.length === 0) throw badRequest('you must specify at least 1 command');
  const options: ExecOptions = { stdin: flag(query, 'stdin'), stdout: flag(query, 'stdout'), stderr: flag(query, 'stderr'), tty: flag(query, 'tty') };
  if (!(await obey(await ctx.hooks.beforeExec?.(pod.metadata.name, command), socket))) return null;
  const request = { podUid: pod.metadata.uid, container, command, tty: options.tty };
  return ctx.upgrades.exec(req, socket, head, options, (streams, signal) => ctx.runtime.exec(request, streams, signal));
}

/**
 * pods/attach (pkg/registry/core/pod/rest/subresources.go AttachREST): the same streams as exec,
 * to the container's own stdio instead of a new process; kubectl speaks the exec protocols to it.
 */
async function startAttach(ctx: UpgradeContext, req: IncomingMessage, socket: Duplex, head: Buffer, pod: Pod, query: URLSearchParams) {
  assertRunning(pod, 'attach');
  const container = pickContainer(pod, query.get('container'));
  assertContainerRunning(pod, container);
  const options: ExecOptions = { stdin: flag(query, 'stdin'), stdout: flag(query, 'stdout'), stderr: flag(query, 'stderr'), tty: flag(query, 'tty') };
  const request = { podUid: pod.metadata.uid, container };
  return ctx.upgrades.exec(req, socket, head, options, (streams, signal) => ctx.runtime.attach(request, streams, signal));
}

async function startPortForward(ctx: UpgradeContext, req: IncomingMessage, socket: Duplex, head: Buffer, pod: Pod) {
  assertRunning(pod, 'port-forward');
  if (!(await obey(await ctx.hooks.beforePortForward?.(pod.metadata.name), socket))) return null;
  return ctx.upgrades.portForward(req, socket, head, (port) => ctx.runtime.dialPort(pod.metadata.uid, port));
}

/** The server's 'upgrade' listener. Errors before the hand-off become a Status reply kubectl prints. */
export async function handleUpgrade(ctx: UpgradeContext, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  socket.on('error', () => {}); // a client that hangs up during a check must not crash the server
  try {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const { pod, type } = authorizedPod(ctx, req, url);
    const session = type === 'exec'
      ? await startExec(ctx, req, socket, head, pod, url.searchParams)
      : type === 'attach'
        ? await startAttach(ctx, req, socket, head, pod, url.searchParams)
        : await startPortForward(ctx, req, socket, head, pod);
    const { name, namespace = 'default' } = pod.metadata;
    if (session) ctx.sessions.add({ namespace, pod: name, type, session });
    // null without a drop: a transport the handler does not speak; a non-101 makes kubectl fall back
    else if (!socket.destroyed) refuse(socket, badRequest('unable to upgrade: unable to negotiate protocol'));
  } catch (error) {
    if (error instanceof KubeletRefusal) {
      if (!socket.destroyed) refuseAsKubelet(socket, error.message);
      return;
    }
    if (!(error instanceof ApiError)) console.error('upgrade failed:', error);
    if (!socket.destroyed) refuse(socket, error instanceof ApiError ? error : internalError(String(error)));
  }
}
