/**
 * Every failure of a kubectl call, as one class hierarchy under WandError (src/errors.ts). Each
 * error carries a one-line `message` (the cause) and a one-line `remedy` (from src/remedies.ts),
 * plus the machine fields of the kubectl call behind it.
 * `mapKubectlFailure` turns kubectl's own stderr into the right class; its patterns are kubectl's
 * exact wording (collected from kubectl 1.32 and real clusters, see test/unit/kube/errors.test.ts).
 */
import { WandError, type ExitClass } from '../errors';
import { KUBECTL } from '../remedies';

/** The kubectl call an error came from (empty for errors raised before any call). */
export interface KubectlCall {
  /** argv after the binary, global flags included */
  args: readonly string[];
  /** null when kubectl did not exit by itself (not started, killed, timed out) */
  exitCode: number | null;
  stderr: string;
}

/** What the caller knows that kubectl's stderr may not say. */
export interface FailureHint {
  pod?: string;
  container?: string;
  /** container names of the pod, for ContainerNotFound's message */
  containers?: readonly string[];
}

const NO_CALL: KubectlCall = { args: [], exitCode: null, stderr: '' };

export abstract class KubeError extends WandError {
  abstract override readonly name: string;
  declare readonly remedy: string;
  readonly args: readonly string[];
  /** kubectl's exit code (not ours: see exitCodeOf in src/errors.ts) */
  readonly exitCode: number | null;
  readonly stderr: string;

  protected constructor(message: string, remedy: string, call: KubectlCall = NO_CALL, exitClass: ExitClass = 'failure') {
    super(message, remedy, exitClass);
    this.args = call.args;
    this.exitCode = call.exitCode;
    this.stderr = call.stderr;
  }
}

export class KubectlNotFound extends KubeError {
  override readonly name = 'KubectlNotFound';
  constructor(
    readonly binary: string,
    readonly reason: 'missing' | 'not-executable',
    call?: KubectlCall,
  ) {
    super(
      reason === 'missing'
        ? `kubectl not found: cannot run "${binary}"`
        : `kubectl is not executable: "${binary}"`,
      KUBECTL.notFound,
      call,
    );
  }
}

export class NotFound extends KubeError {
  override readonly name = 'NotFound';
  constructor(
    /** kubectl's resource name, e.g. "pods", "services", "deployments.apps" */
    readonly resource: string,
    readonly objectName: string,
    readonly namespace: string | undefined,
    call?: KubectlCall,
  ) {
    const kind = singular(resource);
    super(
      `${kind} "${objectName}" not found${namespace ? ` in namespace "${namespace}"` : ''}`,
      KUBECTL.objectNotFound(resource, namespace),
      call,
    );
  }
}

export class NamespaceNotFound extends KubeError {
  override readonly name = 'NamespaceNotFound';
  constructor(
    readonly namespace: string,
    call?: KubectlCall,
  ) {
    super(
      `namespace "${namespace}" not found`,
      KUBECTL.namespaceNotFound,
      call,
    );
  }
}

export interface ForbiddenDetail {
  user?: string;
  verb?: string;
  /** e.g. "pods/exec" */
  resource?: string;
  /** API group, "" for the core group */
  group?: string;
  namespace?: string;
}

export class Forbidden extends KubeError {
  override readonly name = 'Forbidden';
  constructor(
    readonly detail: ForbiddenDetail,
    serverMessage: string,
    call?: KubectlCall,
  ) {
    const { user, verb, resource, group, namespace } = detail;
    super(
      user && verb && resource
        ? `forbidden: user "${user}" cannot ${verb} ${resource}${namespace ? ` in namespace "${namespace}"` : ''}`
        : `forbidden: ${serverMessage}`,
      KUBECTL.forbidden({ verb, resource, group, namespace }),
      call,
    );
  }
}

export class Unauthorized extends KubeError {
  override readonly name = 'Unauthorized';
  constructor(call?: KubectlCall) {
    super(
      'the API server rejected your credentials (Unauthorized)',
      KUBECTL.unauthorized,
      call,
    );
  }
}

export class Unreachable extends KubeError {
  override readonly name = 'Unreachable';
  constructor(
    /** host:port when kubectl named it */
    readonly server: string | undefined,
    readonly detail: string,
    call?: KubectlCall,
  ) {
    super(
      `cannot reach the API server${server ? ` ${server}` : ''}: ${detail}`,
      KUBECTL.unreachable(server, detail),
      call,
    );
  }
}

export class ContextNotFound extends KubeError {
  override readonly name = 'ContextNotFound';
  constructor(
    readonly context: string,
    call?: KubectlCall,
  ) {
    super(
      `kubeconfig context "${context}" does not exist`,
      KUBECTL.contextNotFound,
      call,
    );
  }
}

export class KubeconfigInvalid extends KubeError {
  override readonly name = 'KubeconfigInvalid';
  constructor(
    readonly detail: string,
    call?: KubectlCall,
  ) {
    super(
      `unusable kubeconfig: ${detail}`,
      KUBECTL.kubeconfigInvalid,
      call,
    );
  }
}

export class Timeout extends KubeError {
  override readonly name = 'Timeout';
  constructor(
    readonly timeoutMs: number,
    call?: KubectlCall,
    remedy = KUBECTL.timeout,
  ) {
    super(
      `kubectl did not finish within ${formatSeconds(timeoutMs)}` +
        (call && call.args.length ? ` (kubectl ${commandLine(call.args)})` : ''),
      remedy,
      call,
    );
  }
}

export class ContainerNotFound extends KubeError {
  override readonly name = 'ContainerNotFound';
  constructor(
    readonly pod: string | undefined,
    readonly container: string,
    readonly available: readonly string[],
    call?: KubectlCall,
  ) {
    super(
      `container "${container}" not found${pod ? ` in pod "${pod}"` : ''}` +
        (available.length ? ` (it has: ${available.join(', ')})` : ''),
      KUBECTL.containerNotFound(available),
      call,
    );
  }
}

export class PodNotRunning extends KubeError {
  override readonly name = 'PodNotRunning';
  constructor(
    readonly pod: string | undefined,
    /** the phase kubectl reported; undefined when it only said "not running" */
    readonly phase: string | undefined,
    call?: KubectlCall,
  ) {
    super(
      `pod${pod ? ` "${pod}"` : ''} is ${phase ?? 'not running'}${phase ? ', not Running' : ''}`,
      KUBECTL.podNotRunning,
      call,
    );
  }
}

export class UnknownResourceType extends KubeError {
  override readonly name = 'UnknownResourceType';
  constructor(
    readonly resourceType: string,
    message: string,
    remedy: string,
    call?: KubectlCall,
    /** 'usage' when the user's own TARGET named it (src/session/targets.ts) */
    exitClass: ExitClass = 'failure',
  ) {
    super(message, remedy, call, exitClass);
  }
}

export class KubectlFailed extends KubeError {
  override readonly name = 'KubectlFailed';
  constructor(
    /** stderr's last meaningful line */
    readonly detail: string,
    call: KubectlCall,
  ) {
    super(
      `kubectl ${subcommand(call.args)} failed${call.exitCode !== null ? ` (exit ${call.exitCode})` : ''}` +
        (detail ? `: ${detail}` : ''),
      KUBECTL.failed,
      call,
    );
  }
}

export class LocalPortBusy extends KubeError {
  override readonly name = 'LocalPortBusy';
  constructor(
    readonly port: number,
    call?: KubectlCall,
  ) {
    super(
      `local port ${port} is already in use`,
      KUBECTL.localPortBusy,
      call,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// kubectl stderr → error class

type Matcher = (text: string, call: KubectlCall, hint: FailureHint) => KubeError | undefined;

/** Tried in order: configuration problems first, then the server's answers, then transport. */
const MATCHERS: readonly Matcher[] = [
  matchContextNotFound,
  matchKubeconfigInvalid,
  matchUnauthorized,
  matchForbidden,
  matchNotFound,
  matchUnknownResourceType,
  matchContainerNotFound,
  matchPodNotRunning,
  matchLocalPortBusy,
  matchUnreachable,
];

/** Turns a failed kubectl call (non-zero exit) into the error class its stderr describes. */
export function mapKubectlFailure(
  args: readonly string[],
  exitCode: number | null,
  stderr: string,
  hint: FailureHint = {},
): KubeError {
  const call: KubectlCall = { args, exitCode, stderr };
  for (const match of MATCHERS) {
    const error = match(stderr, call, hint);
    if (error) return error;
  }
  return new KubectlFailed(lastMeaningfulLine(stderr), call);
}

function matchContextNotFound(text: string, call: KubectlCall): KubeError | undefined {
  const m =
    /context was not found for specified context: (\S+)/.exec(text) ??
    /context "([^"]+)" does not exist/.exec(text) ??
    /no context exists with the name: "([^"]+)"/.exec(text) ??
    /cannot locate context (\S+)/.exec(text);
  return m ? new ContextNotFound(m[1]!, call) : undefined;
}

function matchKubeconfigInvalid(text: string, call: KubectlCall): KubeError | undefined {
  let m = /^error: stat (.+): no such file or directory$/m.exec(text);
  if (m) return new KubeconfigInvalid(`${m[1]} does not exist`, call);
  m = /error loading config file "([^"]+)": (.+)/.exec(text);
  if (m) return new KubeconfigInvalid(`${m[1]}: ${m[2]}`, call);
  m = /no server found for cluster "([^"]+)"/.exec(text);
  if (m) return new KubeconfigInvalid(`cluster "${m[1]}" is not defined`, call);
  m = /auth info "([^"]+)" does not exist/.exec(text);
  if (m) return new KubeconfigInvalid(`user "${m[1]}" is not defined`, call);
  m = /^Error in configuration:[ \t]*(.*)$/m.exec(text) ?? /invalid configuration: (.+)/.exec(text);
  if (m) {
    const firstBullet = /^\* (.+)$/m.exec(text);
    return new KubeconfigInvalid((m[1] || firstBullet?.[1] || 'invalid configuration').trim(), call);
  }
  return undefined;
}

function matchUnauthorized(text: string, call: KubectlCall): KubeError | undefined {
  return /You must be logged in to the server|Error from server \(Unauthorized\)/.test(text)
    ? new Unauthorized(call)
    : undefined;
}

function matchForbidden(text: string, call: KubectlCall): KubeError | undefined {
  const line = /^.*(?:\(Forbidden\)|is forbidden:|upgrade connection: Forbidden).*$/m.exec(text)?.[0];
  if (!line) return undefined;
  const m =
    /User "([^"]*)" cannot (\w+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]+)")?/.exec(
      line,
    ) ??
    // kubernetes < 1.11 wording: `cannot create pods/exec in the namespace "x"`
    /User "([^"]*)" cannot (\w+) ([\w./-]+)()(?: in the namespace "([^"]+)")?/.exec(line);
  const serverMessage = stripPrefixes(line);
  if (!m) return new Forbidden({}, serverMessage, call);
  return new Forbidden(
    { user: m[1], verb: m[2], resource: m[3], group: m[4] ?? '', namespace: m[5] },
    serverMessage,
    call,
  );
}

function matchNotFound(text: string, call: KubectlCall, hint: FailureHint): KubeError | undefined {
  const ns = /Error from server \(NotFound\): namespaces "([^"]+)" not found/.exec(text);
  if (ns) return new NamespaceNotFound(ns[1]!, call);
  const m = /Error from server \(NotFound\): ([\w.-]+) "([^"]+)" not found/.exec(text);
  if (m) return new NotFound(m[1]!, m[2]!, namespaceOf(call.args), call);
  if (/unable to upgrade connection: pod does not exist/.test(text)) {
    return new NotFound('pods', hint.pod ?? '?', namespaceOf(call.args), call);
  }
  return undefined;
}

function matchUnknownResourceType(text: string, call: KubectlCall): KubeError | undefined {
  const m = /the server doesn't have a resource type "([^"]+)"/.exec(text);
  return m
    ? new UnknownResourceType(
        m[1]!,
        `the cluster doesn't have a resource type "${m[1]}"`,
        KUBECTL.unknownResourceType,
        call,
      )
    : undefined;
}

function matchContainerNotFound(text: string, call: KubectlCall, hint: FailureHint): KubeError | undefined {
  const available = hint.containers ?? [];
  let m = /container not found \("([^"]+)"\)/.exec(text);
  if (m) return new ContainerNotFound(hint.pod, m[1]!, available, call);
  m = /container (\S+) is not valid for pod (\S+)/.exec(text);
  if (m) return new ContainerNotFound(m[2], m[1]!, available, call);
  return undefined;
}

function matchPodNotRunning(text: string, call: KubectlCall, hint: FailureHint): KubeError | undefined {
  const m =
    /cannot exec into a container in a completed pod; current phase is (\w+)/.exec(text) ??
    /unable to forward port because pod is not running\. Current status=(\w+)/.exec(text) ??
    /cannot attach to a container in a completed pod; current phase is (\w+)/.exec(text);
  if (m) return new PodNotRunning(hint.pod, m[1], call);
  const unscheduled = /pod (\S+) does not have a host assigned/.exec(text);
  if (unscheduled) return new PodNotRunning(unscheduled[1], 'Pending', call);
  if (/container is not created or running|container not running/.test(text)) {
    return new PodNotRunning(hint.pod, undefined, call);
  }
  return undefined;
}

function matchLocalPortBusy(text: string, call: KubectlCall): KubeError | undefined {
  const m = /Unable to listen on port (\d+): .*address already in use/.exec(text);
  return m ? new LocalPortBusy(Number(m[1]), call) : undefined;
}

function matchUnreachable(text: string, call: KubectlCall): KubeError | undefined {
  const refused = /The connection to the server (\S+) was refused/.exec(text);
  if (refused) return new Unreachable(refused[1], 'connection refused', call);
  const unable = /Unable to connect to the server: (.+)/.exec(text);
  if (unable) return new Unreachable(serverIn(unable[1]!), shortNetworkDetail(unable[1]!), call);
  const discovery = /couldn't get current server API group list: (.+?)"?$/m.exec(text);
  if (discovery && /dial tcp|no such host|i\/o timeout|connection refused|TLS handshake/.test(discovery[1]!)) {
    return new Unreachable(serverIn(discovery[1]!), shortNetworkDetail(discovery[1]!), call);
  }
  return undefined;
}

/** `dial tcp: lookup foo on 10.0.0.53:53: no such host` → `no such host (foo)` */
function shortNetworkDetail(detail: string): string {
  const lookup = /lookup (\S+?)(?: on \S+)?: no such host/.exec(detail);
  if (lookup) return `no such host (${lookup[1]})`;
  for (const known of ['connection refused', 'i/o timeout', 'network is unreachable', 'connection reset by peer']) {
    if (detail.includes(known)) return known;
  }
  return detail.replace(/\\"/g, '"').trim();
}

function serverIn(detail: string): string | undefined {
  return (
    /dial tcp (\d[\d.]*:\d+|\[[^\]]+\]:\d+)/.exec(detail)?.[1] ??
    /Get \\?"https?:\/\/([^/"\\]+)/.exec(detail)?.[1] ??
    /lookup ([^\s:]+)/.exec(detail)?.[1]
  );
}

// ---------------------------------------------------------------------------------------------
// helpers shared with the modules that run kubectl

const NOISE: readonly RegExp[] = [
  /^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s/, // klog lines (-v, discovery retries)
  /^Warning: /,
  /^Defaulted container "/,
  /^See '.*--help' for usage\.$/,
  /^command terminated with exit code \d+$/,
  /^Unable to use a TTY/,
];

/** The line of stderr that says what went wrong, without kubectl's `error: ` prefix. */
export function lastMeaningfulLine(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !NOISE.some((noise) => noise.test(line)));
  return stripPrefixes(lines[lines.length - 1] ?? '');
}

function stripPrefixes(line: string): string {
  return line.replace(/^error: /i, '').replace(/^Error from server \([^)]*\): /, '').trim();
}

/** The value of `-n`/`--namespace` in kubectl args, if any. */
export function namespaceOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return undefined;
    if (arg === '-n' || arg === '--namespace') return args[i + 1];
    const joined = /^(?:-n|--namespace)=(.+)$/.exec(arg) ?? /^-n(.+)$/.exec(arg);
    if (joined) return joined[1];
  }
  return undefined;
}

/** `get pods -n x` → `get`, skipping leading global flags. */
function subcommand(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('-')) return arg;
    if (!arg.includes('=') && FLAGS_WITH_VALUE.has(arg)) i++;
  }
  return '';
}

const FLAGS_WITH_VALUE = new Set([
  '--kubeconfig', '--context', '--cluster', '--user', '--as', '--request-timeout', '-v', '-n', '--namespace',
]);

/** args as a shell user would type them (for messages only: kubectl is never run through a shell). */
export function commandLine(args: readonly string[]): string {
  return args.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

const SINGULAR: Record<string, string> = {
  pods: 'pod',
  services: 'service',
  namespaces: 'namespace',
  deployments: 'deployment',
  statefulsets: 'statefulset',
  replicasets: 'replicaset',
  daemonsets: 'daemonset',
  jobs: 'job',
};

function singular(resource: string): string {
  const base = resource.split('.')[0]!;
  return SINGULAR[base] ?? base;
}
