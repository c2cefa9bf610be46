/**
 * Every remedy kubectl-wand gives — the `hint:` line under an error, and the fixes doctor's checks
 * share with those errors — written here and nowhere else, so that one case reads the same
 * wherever it is met. Pure text: a leaf module every layer imports (it imports only types).
 */
import type { AgentErrorCode, TraceDenialCode } from './agent/contract';

export const USAGE = "run 'kubectl wand --help' for usage";
export const BUG = 'this is a bug in kubectl-wand; rerun with WAND_DEBUG=1 and report the output';
export const TARGET_FORMS =
  'pod/NAME (or just NAME), svc/NAME, deploy/NAME, sts/NAME, rs/NAME, ds/NAME, job/NAME, -l SELECTOR or -s SERVICE';

/** An RBAC rule the user lacks (from kubectl's Forbidden message). */
export interface MissingRule {
  verb?: string;
  /** e.g. "pods/exec" */
  resource?: string;
  /** API group, "" for the core group */
  group?: string;
  namespace?: string;
}

/** What kubectl and the cluster answered (src/kube/errors.ts). */
export const KUBECTL = {
  notFound: 'install kubectl (https://kubernetes.io/docs/tasks/tools/) or set KUBECTL_PATH to its full path',
  objectNotFound: (resource: string, namespace: string | undefined) =>
    `list what exists with: kubectl get ${resource.split('.')[0]}${namespace ? ` -n ${namespace}` : ''}`,
  namespaceNotFound: 'check -n/--namespace (kubectl get namespaces lists them)',
  forbidden: ({ verb, resource, group, namespace }: MissingRule) =>
    verb && resource
      ? `ask a cluster admin for a Role${namespace ? ` in namespace "${namespace}"` : ''} with the rule ` +
        `{apiGroups: ["${group ?? ''}"], resources: ["${resource}"], verbs: ["${verb}"]}`
      : 'ask a cluster admin for the RBAC permission named above',
  unauthorized: "log in again or refresh the credentials of this kubeconfig context (e.g. your cloud CLI's get-credentials)",
  contextNotFound: 'pick one of: kubectl config get-contexts',
  kubeconfigInvalid: 'check --kubeconfig / KUBECONFIG and the context, cluster and user they name',
  timeout: 'the cluster may be slow or unreachable: retry, or allow more time with --request-timeout 60s',
  containerNotFound: (available: readonly string[]) =>
    available.length
      ? `pick one with -c: ${available.join(', ')}`
      : 'list the containers with: kubectl get pod POD -o jsonpath="{.spec.containers[*].name}"',
  podNotRunning: 'pick a Running pod (kubectl get pods) or wait for this one to start',
  unknownResourceType: 'kubectl api-resources lists the types this cluster serves',
  failed: 'run it again with -v 6 to see what kubectl did',
  localPortBusy: 'choose another with --local-port N, or --local-port 0 to let kubectl pick a free one',
  portForwardNeverListened: 'kubectl port-forward never started listening: check the pod, then retry',
  /** `detail`: kubectl's own words on the network failure */
  unreachable(server: string | undefined, detail: string): string {
    if (server === 'localhost:8080') return 'no kubeconfig was found: set KUBECONFIG or pass --kubeconfig/--context';
    if (/x509|certificate/i.test(detail)) return "check the cluster's certificate-authority in your kubeconfig";
    if (/Client\.Timeout|deadline exceeded|i\/o timeout/i.test(detail)) {
      return 'check the network path to the cluster (VPN?), or allow more time with --request-timeout 60s';
    }
    return 'check that the cluster is up and that --context/--kubeconfig point to it';
  },
};

/** TARGET and what it resolves to (src/session/targets.ts, choose-target.ts). */
export const TARGET = {
  none: `name one: ${TARGET_FORMS}`,
  several: `one of: ${TARGET_FORMS}`,
  unknownType: `target one of: ${TARGET_FORMS}`,
  invalidName: `one of: ${TARGET_FORMS}`,
  missingName: (type: string) => `e.g. ${type}/my-app`,
  emptySelector: 'e.g. -l app=web',
  noSelector: 'target its pods directly: pod/NAME or -l SELECTOR',
  noPods: (namespace: string, selector: string) => `check with: kubectl get pods -n ${namespace} -l '${selector}'`,
  podNotInTarget: (pods: readonly string[]) => (pods.length ? `choose one of: ${pods.join(', ')}` : 'check with: kubectl get pods'),
  namedPodUnusable: 'choose one of the pods of the target with --pod NAME',
  ambiguousPodPrefix: (candidates: readonly string[]) => `type more of the name: --pod takes a unique start of one of: ${candidates.join(', ')}`,
  noUsablePod: (namespace: string) => `check the pods with: kubectl get pods -n ${namespace}`,
  noPython: 'choose the container that runs your Python app with -c NAME',
  chooseContainer: 'choose the container with -c NAME',
  containerChoice: (candidates: readonly string[]) => `pick the container with -c (${candidates.join(', ')})`,
  podGone: 'start the session again once a pod of the target is Running',
};

/** Where a process is, for remedies that name it. */
export interface ProcessAt {
  pod: string;
  namespace: string;
  container: string;
  image: string | undefined;
  pid: number;
}

/** The process choice (src/select/choose.ts codes) when nothing could be chosen. */
export function processChoiceRemedy(
  code: string,
  pod: string,
  namespace: string | undefined,
  /** not-debuggable: the reason codes of the processes that would have been chosen */
  reasons: readonly (AgentErrorCode | null | undefined)[],
  /** their TraceDenialCodes: a refusal no container setting fixes has its own remedy */
  traceCodes: readonly (TraceDenialCode | null | undefined)[] = [],
): string {
  const pods = `kubectl wand pods pod/${pod} -n ${namespace} --with-pids`;
  const doctor = `kubectl wand doctor pod/${pod} -n ${namespace}`;
  switch (code) {
    case 'ambiguous':
      return `pick one with --pid (see: ${pods})`;
    case 'starting':
      return 'wait for the worker to start, then run the command again';
    case 'not-debuggable': {
      const unfixable = traceCodes.map((c) => (c ? TRACE_DENIAL[c] : undefined)).find((remedy) => remedy !== undefined);
      if (unfixable) return `${unfixable} (details: ${doctor})`;
      const known = reasons.map((reason) => (reason ? NOT_DEBUGGABLE[reason] : undefined)).find((remedy) => remedy !== undefined);
      return known ? `${known} (details: ${doctor})` : `see why with: ${doctor}`;
    }
    default:
      return `list the processes with: ${pods}`;
  }
}

/** The agent's session and runs (src/session/agent-*.ts). */
export const AGENT = {
  noAnswer: 'the agent did not answer in time: retry, or check the pod with kubectl describe pod',
  noStart: 'the agent did not start in time: check the pod with kubectl describe pod, or allow more time with --request-timeout',
  sessionEnded: (pod: string, namespace: string) => `the pod may have been deleted or restarted: check it with kubectl get pod ${pod} -n ${namespace}`,
  /** when an error carries none: doctor reports it as its check's remedy */
  unknown: 'run it again with -v 6 (kubectl calls) or WAND_DEBUG=1',
};

/** debug: the agent's error codes, said the same way whatever the process. */
const DEBUG: Record<AgentErrorCode, string> = {
  'no-such-process': 'the process is gone (a reload?): run the command again',
  'not-python': 'choose a Python process (see: kubectl wand pods TARGET --with-pids)',
  'python-too-old': 'kubectl-wand needs Python 3.9+ in the target (3.9–3.13 on x86_64 nodes): upgrade the image, or attach debugpy at start-up instead',
  'remote-debug-disabled': 'remove PYTHON_DISABLE_REMOTE_DEBUG / -X disable-remote-debug from the workload and restart it',
  'permission-denied':
    'run the app as the same user as kubectl exec, or give the container CAP_SYS_PTRACE (securityContext.capabilities.add: [SYS_PTRACE]), or attach from an ephemeral container: kubectl debug -it POD --profile=general --target=CONTAINER',
  'no-writable-dir': 'the container has no writable directory (read-only root filesystem): mount an emptyDir at /tmp',
  'no-debugpy': 'provide debugpy: pass --debugpy-from DIR, install it locally (python3 -m pip install debugpy), or add it to the image',
  timeout: 'the main thread runs the debugger only when it next runs Python code: send the app a request, or raise --timeout',
  'injected-code-failed': 'see the message above; the target kept running',
  'version-mismatch': 'the injector must be the same Python version as the target; report this as a bug',
  'unsupported-arch': 'Python 3.9–3.13 can be injected on x86_64 nodes only: run the pod on one, or run the app on Python 3.14+',
  'unsupported-python': 'this interpreter cannot be injected this way (see the message): run the app on CPython 3.14+',
  'not-ready': 'the process is starting, stopping or stopped: run the command again in a moment',
  internal: BUG,
};

/** A process the agent listed as not debuggable, by its reasonCode: what would make it debuggable. */
const NOT_DEBUGGABLE: Partial<Record<AgentErrorCode, string>> = {
  'python-too-old': DEBUG['python-too-old'],
  'remote-debug-disabled': DEBUG['remote-debug-disabled'],
  'permission-denied': DEBUG['permission-denied'],
  'unsupported-arch': DEBUG['unsupported-arch'],
  'unsupported-python': DEBUG['unsupported-python'],
};

/**
 * The remedy for an agent error. debug's are generic; exec and stack (`at`: the process they
 * worked on) name the pod and process, and read the agent's `message` for the exact cause.
 */
export function agentRemedy(code: AgentErrorCode, message: string, at?: ProcessAt, traceCode?: TraceDenialCode): string {
  if (!at) return DEBUG[code] ?? BUG;
  const pod = `pod/${at.pod} -n ${at.namespace}`;
  switch (code) {
    case 'no-such-process':
    case 'not-python':
      return `list the processes with: kubectl wand pods ${pod} --with-pids`;
    case 'python-too-old':
      return `run the app on Python 3.9+; every check: kubectl wand doctor ${pod}`;
    case 'remote-debug-disabled':
      return remoteDebugRemedy(message);
    case 'permission-denied':
      return traceRemedy(message, at, traceCode);
    case 'no-writable-dir':
      return 'mount an emptyDir at /tmp: volumes: [{name: tmp, emptyDir: {}}], volumeMounts: [{name: tmp, mountPath: /tmp}]';
    case 'no-debugpy':
      return 'install debugpy locally (python3 -m pip install debugpy) or add it to the image';
    case 'timeout':
      return (
        'a process runs injected code only when its main thread runs Python code (nothing more will run later); ' +
        `see where it waits with: kubectl wand stack ${pod} --pid ${at.pid}`
      );
    case 'injected-code-failed':
      return /is not imported in the target process/.test(message)
        ? "name a module the process has imported, e.g. --module __main__ (see: --code 'import sys; print(sorted(sys.modules))')"
        : 'rerun with WAND_DEBUG=1 to see the details';
    case 'version-mismatch':
      return `the helper interpreter does not match the target's; check with: kubectl wand doctor ${pod}`;
    default:
      return 'this looks like a bug in kubectl-wand: rerun with WAND_DEBUG=1 and report the output';
  }
}

/** The fix for remote debugging switched off; `reason`: the agent's or doctor's account of why. */
export function remoteDebugRemedy(reason: string): string {
  if (/PYTHON_DISABLE_REMOTE_DEBUG/.test(reason)) {
    return "remove PYTHON_DISABLE_REMOTE_DEBUG from the container's env in the pod spec and roll the pods out again";
  }
  if (/disable-remote-debug/.test(reason)) {
    return "remove `-X disable-remote-debug` from the container's command and roll the pods out again";
  }
  if (/built without/.test(reason)) {
    return 'use a CPython 3.14 build with remote debugging (the default; official python images have it), not one configured --without-remote-debug';
  }
  return 'enable remote debugging in the target process';
}

/** Causes no container setting fixes (TraceDenialCode → remedy). */
const TRACE_DENIAL: Partial<Record<TraceDenialCode, string>> = {
  'yama-scope-3': "the node's Yama ptrace_scope=3 forbids tracing any process: only the node's admin can lower it (sysctl kernel.yama.ptrace_scope), or run the pod on another node pool",
  'no-process-vm': 'this runtime (gVisor?) does not let any process read another\'s memory: run the pod with a runc/containerd runtime class',
};

/** The fix for a process that may not be traced; `reason`: the agent's account of why, `code` its TraceDenialCode. */
export function traceRemedy(reason: string, t: Omit<ProcessAt, 'pid'>, code?: TraceDenialCode | null): string {
  const fixed = TRACE_DENIAL[code ?? (/ptrace_scope=3/.test(reason) ? 'yama-scope-3' : 'unknown')];
  if (fixed) return fixed;
  const ephemeral =
    `kubectl debug -it ${t.pod} -n ${t.namespace} --profile=general --target=${t.container} ` +
    `--image=${t.image ?? '<the same image>'} -- sh`;
  const sameUser = /runs as (uid|gid)/.test(reason) ? "run kubectl exec's user as the app's (the container's securityContext.runAsUser), or " : '';
  return (
    `${sameUser}add CAP_SYS_PTRACE to the container: securityContext: {capabilities: {add: ["SYS_PTRACE"]}}; ` +
    `without changing the pod, an ephemeral container may trace it: ${ephemeral}`
  );
}

/** The ephemeral route (src/session/ephemeral-route.ts) when the cluster refuses it. */
export const EPHEMERAL = {
  podSecurity: (namespace: string, level: string) =>
    `namespace "${namespace}" enforces Pod Security "${level}" (label pod-security.kubernetes.io/enforce), which refuses SYS_PTRACE: ` +
    `ask an admin to exempt it (kubectl label ns ${namespace} pod-security.kubernetes.io/enforce=privileged --overwrite, or an AdmissionConfiguration exemption), ` +
    'or give the app container CAP_SYS_PTRACE (a restart)',
  rbac: (namespace: string) =>
    `ask a cluster admin for a Role in namespace "${namespace}" with {apiGroups: [""], resources: ["pods/ephemeralcontainers"], verbs: ["patch"]} ` +
    `(check with: kubectl auth can-i patch pods --subresource ephemeralcontainers -n ${namespace})`,
  noCustom: 'use kubectl 1.31+ (or 1.30 with KUBECTL_DEBUG_CUSTOM_PROFILE=true), or --debug-image IMAGE with a root user and Python 3',
  unsupported: 'this cluster does not serve ephemeral containers (Kubernetes 1.25+ does): give the app container CAP_SYS_PTRACE instead (a restart)',
  never: 'rerun without --ephemeral never to attach from an ephemeral debugger container',
  taken: 'nothing to do: debug, exec and stack attach from a debugger container (kubectl debug --profile general); --ephemeral never refuses instead',
};

/** exec's code and the local files the command reads. */
export const INPUT = {
  oneSource: 'give the code exactly one way: --code CODE, -f FILE or - (read from stdin)',
  unreadableFile: 'give the path of a Python file, or --code CODE, or - to read stdin',
  syntaxError: (at: string, offending: string) =>
    offending ? `fix ${at}: ${offending.length > 80 ? `${offending.slice(0, 79)}…` : offending}` : 'fix the code and run it again',
  noDebugpyThere: 'name a directory containing debugpy/__init__.py (e.g. a site-packages directory)',
  noLocalDebugpy:
    'install it locally (python3 -m pip install debugpy), or pass --debugpy-from DIR (a directory containing the debugpy package), or add debugpy to the image',
};

/** `completion install`. */
export const COMPLETION = {
  windowsScript: 'npm i -g kubectl-wand installs kubectl_complete-wand itself',
  exists: 'pass --force to replace it',
  cannotWrite: (dir: string) => `rerun with the rights to write ${dir} (e.g. sudo), or pass --dir DIR for a directory of yours on PATH`,
};
