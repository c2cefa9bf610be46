/** The emulated kube-apiserver: https + bearer tokens, discovery, reads, deletes, logs, metrics, streams. */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PodRuntime } from '../runtime/types';
import { authenticate, isAllowed, makeUsers, type User } from './auth';
import { pickContainer } from './containers';
import {
  apiGroupList, apiResourceList, apiVersions, findResource, groupVersionOf, parseResourcePath, versionInfo,
  type ResourceDef, type ResourcePath,
} from './discovery';
import { writeKubeconfig } from './kubeconfig';
import { assertHasLogs, serveLogs } from './logs';
import { serveEphemeralContainers } from './ephemeral';
import { podMetrics, podMetricsList } from './metrics';
import { serveScale } from './scale';
import type { Kind, KubeObject } from './objects';
import { accessReviewAttributes, type ResourceAttributes } from './protobuf';
import { SelectorError } from './selectors';
import { ApiError, badRequest, forbidden, internalError, methodNotAllowed, notFound, pathNotFound, unauthorized } from './status';
import type { ListOptions, ObjectStore } from './store';
import { toTable, type IncludeObject } from './tables';
import { ensureTls } from './tls';
import { handleUpgrade, SessionRegistry, type ApiHooks, type Upgrades } from './upgrades';
import { serveWatch } from './watch';

export type { ApiHooks, HookVerdict } from './upgrades';

export type ApiRuntime = Pick<PodRuntime, 'exec' | 'attach' | 'dialPort' | 'logPath' | 'usage'>;

export interface ApiServerOptions {
  /** holds tls/ and kubeconfig */
  stateDir: string;
  store: ObjectStore;
  runtime: ApiRuntime;
  upgrades: Upgrades;
  hooks?: ApiHooks;
  /** the minor version /version reports (default 32); the gcloud kubectl dispatcher runs kubectl 1.<minor> */
  serverMinor?: number;
}

export interface ApiServer {
  url: string;
  kubeconfigPath: string;
  sessions: SessionRegistry;
  setMinor(minor: number): void;
  close(): Promise<void>;
}

interface Served {
  store: ObjectStore;
  runtime: ApiRuntime;
  users: User[];
  address: string;
  minor(): number;
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, error: unknown): void {
  if (error instanceof SelectorError) error = badRequest(error.message);
  if (!(error instanceof ApiError)) {
    console.error('api server:', error);
    error = internalError(error instanceof Error ? error.message : String(error));
  }
  if (res.headersSent) res.destroy();
  else sendJson(res, (error as ApiError).status.code, (error as ApiError).status);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = (await readBody(req)).toString('utf8').trim();
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw badRequest('the request body is not valid JSON');
  }
}

function wantsTable(req: IncomingMessage): boolean {
  return /\bas=Table\b/.test(req.headers.accept ?? '');
}

function optionalInt(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  return value === null || value === '' ? undefined : Number.parseInt(value, 10);
}

function isWatch(query: URLSearchParams): boolean {
  return query.get('watch') === 'true' || query.get('watch') === '1';
}

function verbOf(method: string, path: ResourcePath, query: URLSearchParams): string {
  if (method === 'POST') return 'create';
  if (method === 'DELETE') return 'delete';
  if (method === 'PATCH') return 'patch';
  if (method === 'PUT') return 'update';
  if (path.name) return 'get';
  return isWatch(query) ? 'watch' : 'list';
}

function listOptions(namespace: string | undefined, query: URLSearchParams): ListOptions {
  return { namespace, labelSelector: query.get('labelSelector') ?? undefined, fieldSelector: query.get('fieldSelector') ?? undefined };
}

async function serveStored(s: Served, req: IncomingMessage, res: ServerResponse, def: ResourceDef, path: ResourcePath, query: URLSearchParams): Promise<void> {
  const kind = def.stored as Kind;
  const { namespace, name } = path;
  const include = (query.get('includeObject') ?? 'Metadata') as IncludeObject;
  const render = (objects: KubeObject[]) => toTable(kind, objects, include, s.store.resourceVersion);
  if (req.method === 'DELETE' && name) {
    const options = await readJson(req);
    const grace = typeof options.gracePeriodSeconds === 'number' ? options.gracePeriodSeconds : optionalInt(query, 'gracePeriodSeconds');
    const deleted = s.store.requestDelete(kind, namespace, name, grace);
    if (!deleted) throw notFound(def.name, def.group, name);
    return sendJson(res, 200, deleted);
  }
  if (req.method !== 'GET') throw methodNotAllowed(req.method ?? '');
  if (name) {
    const object = s.store.get(kind, namespace, name);
    if (!object) throw notFound(def.name, def.group, name);
    return sendJson(res, 200, wantsTable(req) ? render([object]) : object);
  }
  const options = listOptions(namespace, query);
  if (isWatch(query)) {
    const resourceVersion = query.get('resourceVersion') ?? '';
    const timeoutSeconds = optionalInt(query, 'timeoutSeconds');
    const sendInitialEvents = query.get('sendInitialEvents') === 'true';
    return serveWatch(req, res, s.store, {
      kind, options, resourceVersion, timeoutSeconds, sendInitialEvents, apiVersion: groupVersionOf(def), render: (o) => (wantsTable(req) ? render([o]) : o),
    });
  }
  const items = s.store.list(kind, options);
  if (wantsTable(req)) return sendJson(res, 200, render(items));
  sendJson(res, 200, { kind: `${def.kind}List`, apiVersion: groupVersionOf(def), metadata: { resourceVersion: s.store.resourceVersion }, items });
}

async function servePodLog(s: Served, req: IncomingMessage, res: ServerResponse, path: ResourcePath, query: URLSearchParams): Promise<void> {
  const { namespace, name = '' } = path;
  const pod = s.store.get('Pod', namespace, name);
  if (!pod) throw notFound('pods', '', name);
  const container = pickContainer(pod, query.get('container'));
  assertHasLogs(pod, container);
  const { uid } = pod.metadata;
  await serveLogs(req, res, {
    path: s.runtime.logPath(uid, container),
    container,
    follow: query.get('follow') === 'true',
    tailLines: optionalInt(query, 'tailLines'),
    limitBytes: optionalInt(query, 'limitBytes'),
    current: () => {
      const now = s.store.get('Pod', namespace, name);
      return now?.metadata.uid === uid ? now : undefined;
    },
  });
}

async function servePodMetrics(s: Served, res: ServerResponse, path: ResourcePath, query: URLSearchParams): Promise<void> {
  if (!path.name) return sendJson(res, 200, await podMetricsList(s.store.list('Pod', listOptions(path.namespace, query)), s.runtime));
  const pod = s.store.get('Pod', path.namespace, path.name);
  const metrics = pod && (await podMetrics(pod, s.runtime));
  if (!metrics) throw notFound('pods', 'metrics.k8s.io', path.name);
  sendJson(res, 200, metrics);
}

/** SelfSubjectAccessReview, which `kubectl auth can-i` posts (as protobuf). */
async function reviewAccess(user: User, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let attributes: ResourceAttributes | undefined;
  if (/protobuf/.test(req.headers['content-type'] ?? '')) {
    attributes = accessReviewAttributes(await readBody(req));
  } else {
    const review = (await readJson(req)) as { spec?: { resourceAttributes?: ResourceAttributes } };
    attributes = review.spec?.resourceAttributes;
  }
  const a = attributes;
  const allowed = !a || isAllowed(user, { verb: a.verb ?? '', resource: a.resource ?? '', subresource: a.subresource || undefined });
  sendJson(res, 201, {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: {},
    spec: a ? { resourceAttributes: a } : {},
    status: { allowed },
  });
}

/** pods/ephemeralcontainers and deployments/scale: GET, PATCH, PUT */
async function serveWritableSubresource(s: Served, req: IncomingMessage, res: ServerResponse, def: ResourceDef, path: ResourcePath): Promise<void> {
  const method = req.method ?? 'GET';
  if (!['GET', 'PATCH', 'PUT'].includes(method)) throw methodNotAllowed(method);
  if (!path.namespace || !path.name) throw pathNotFound();
  const body = method === 'GET' ? undefined : await readJson(req);
  const request = { method, namespace: path.namespace, name: path.name, body, contentType: req.headers['content-type'] };
  sendJson(res, 200, def.name === 'deployments/scale' ? serveScale(s.store, request) : serveEphemeralContainers(s.store, request));
}

/** cluster-scoped resources have no namespace; a namespaced object is named only inside one */
function addressable(def: ResourceDef, path: ResourcePath): boolean {
  return def.namespaced ? !!path.namespace || !path.name : !path.namespace;
}

async function dispatch(s: Served, user: User, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const pathname = url.pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  if (method === 'GET' && pathname === '/version') return sendJson(res, 200, versionInfo(s.minor()));
  if (method === 'GET' && pathname === '/api') return sendJson(res, 200, apiVersions(s.address));
  if (method === 'GET' && pathname === '/apis') return sendJson(res, 200, apiGroupList());
  const path = parseResourcePath(pathname);
  if (!path) throw pathNotFound();
  if (!path.resource) {
    const list = apiResourceList(path.group, path.version);
    if (!list || method !== 'GET') throw pathNotFound();
    return sendJson(res, 200, list);
  }
  const def = findResource(path.group, path.version, path.subresource ? `${path.resource}/${path.subresource}` : path.resource);
  if (!def || !addressable(def, path)) throw pathNotFound();
  const verb = verbOf(method, path, url.searchParams);
  if (!isAllowed(user, { verb, resource: path.resource, subresource: path.subresource })) {
    const { namespace, name } = path;
    throw forbidden({ user: user.name, verb, resource: path.resource, subresource: path.subresource, group: path.group, namespace, name });
  }
  if (def.name === 'pods/ephemeralcontainers' || def.name === 'deployments/scale') return serveWritableSubresource(s, req, res, def, path);
  if (def.stored) return serveStored(s, req, res, def, path, url.searchParams);
  switch (def.kind) {
    case 'SelfSubjectAccessReview':
      if (method !== 'POST') throw methodNotAllowed(method);
      return reviewAccess(user, req, res);
    case 'PodMetrics':
      return servePodMetrics(s, res, path, url.searchParams);
    case 'Pod': // pods/log
      return servePodLog(s, req, res, path, url.searchParams);
    default: // pods/exec and pods/portforward reach here only without an Upgrade header
      throw badRequest('Upgrade request required');
  }
}

async function serve(s: Served, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const user = authenticate(req, s.users);
    if (!user) throw unauthorized();
    await dispatch(s, user, req, res, new URL(req.url ?? '/', 'https://localhost'));
  } catch (error) {
    sendError(res, error);
  }
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const tls = await ensureTls(options.stateDir);
  const { admin, noexec, nodebug } = makeUsers();
  const users = [admin, noexec, nodebug];
  const sessions = new SessionRegistry();
  let minor = options.serverMinor ?? 32;
  const served: Served = { store: options.store, runtime: options.runtime, users, address: '', minor: () => minor };
  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => void serve(served, req, res));
  const upgradeContext = { store: options.store, runtime: options.runtime, upgrades: options.upgrades, hooks: options.hooks ?? {}, sessions, users };
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => void handleUpgrade(upgradeContext, req, socket, head));
  const port = await listen(server);
  served.address = `127.0.0.1:${port}`;
  const url = `https://${served.address}`;
  const kubeconfigPath = await writeKubeconfig(options.stateDir, { server: url, caCert: tls.caCert, adminToken: admin.token, noexecToken: noexec.token, nodebugToken: nodebug.token });
  return {
    url,
    kubeconfigPath,
    sessions,
    setMinor: (m) => (minor = m),
    close: () =>
      new Promise<void>((resolve) => {
        for (const e of sessions.list()) e.session.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
