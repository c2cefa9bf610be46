/**
 * kubectl's stderr → error class. The strings are what kubectl really prints: most were provoked
 * with kubectl 1.32 (against nothing, a bad kubeconfig, and a small API server answering Status
 * objects); the container-runtime ones are quoted from public bug reports of real clusters.
 */
import {
  ContainerNotFound,
  ContextNotFound,
  Forbidden,
  KubeconfigInvalid,
  KubectlFailed,
  LocalPortBusy,
  NamespaceNotFound,
  NotFound,
  PodNotRunning,
  Unauthorized,
  UnknownResourceType,
  Unreachable,
  commandLine,
  lastMeaningfulLine,
  mapKubectlFailure,
  namespaceOf,
} from '../../../src/kube/errors';

const klog = (text: string) =>
  `E1125 13:19:53.041128   14041 memcache.go:265] "Unhandled Error" err="couldn't get current server API group list: ${text}"\n`;

interface Case {
  name: string;
  args?: string[];
  stderr: string;
  type: new (...args: never[]) => Error;
  fields?: Record<string, unknown>;
  message: string | RegExp;
}

const GET_POD = ['get', 'pod', 'web-1', '-n', 'shop', '-o', 'json'];

const cases: Case[] = [
  {
    name: 'connection refused (with discovery noise)',
    stderr:
      klog('Get \\"http://127.0.0.1:1/api?timeout=32s\\": dial tcp 127.0.0.1:1: connect: connection refused').repeat(5) +
      'The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?\n',
    type: Unreachable,
    fields: { server: '127.0.0.1:1', detail: 'connection refused' },
    message: 'cannot reach the API server 127.0.0.1:1: connection refused',
  },
  {
    name: 'no kubeconfig at all',
    stderr: 'The connection to the server localhost:8080 was refused - did you specify the right host or port?\n',
    type: Unreachable,
    fields: { server: 'localhost:8080', remedy: 'no kubeconfig was found: set KUBECONFIG or pass --kubeconfig/--context' },
    message: /localhost:8080/,
  },
  {
    name: 'no such host',
    stderr:
      klog('Get \\"http://nosuchhost.invalid:80/api?timeout=32s\\": dial tcp: lookup nosuchhost.invalid on 10.255.255.53:53: no such host') +
      'Unable to connect to the server: dial tcp: lookup nosuchhost.invalid on 10.255.255.53:53: no such host\n',
    type: Unreachable,
    fields: { server: 'nosuchhost.invalid', detail: 'no such host (nosuchhost.invalid)' },
    message: 'cannot reach the API server nosuchhost.invalid: no such host (nosuchhost.invalid)',
  },
  {
    name: 'i/o timeout',
    stderr: 'Unable to connect to the server: dial tcp 10.0.0.1:443: i/o timeout\n',
    type: Unreachable,
    fields: { server: '10.0.0.1:443', detail: 'i/o timeout' },
    message: 'cannot reach the API server 10.0.0.1:443: i/o timeout',
  },
  {
    name: "kubectl's own --request-timeout",
    stderr:
      klog('Get \\"http://127.0.0.1:18200/api?timeout=2s\\": net/http: request canceled (Client.Timeout exceeded while awaiting headers)') +
      'Unable to connect to the server: net/http: request canceled (Client.Timeout exceeded while awaiting headers)\n',
    type: Unreachable,
    fields: { remedy: expect.stringContaining('--request-timeout') },
    message: /Client\.Timeout exceeded/,
  },
  {
    name: 'missing kubeconfig file',
    args: ['--kubeconfig', '/x', 'get', 'pods'],
    stderr: 'error: stat /x: no such file or directory\n',
    type: KubeconfigInvalid,
    message: 'unusable kubeconfig: /x does not exist',
  },
  {
    name: 'kubeconfig that is not YAML',
    stderr: 'error: error loading config file "/tmp/badkc": yaml: line 1: did not find expected node content\n',
    type: KubeconfigInvalid,
    message: 'unusable kubeconfig: /tmp/badkc: yaml: line 1: did not find expected node content',
  },
  {
    name: 'kubeconfig naming a missing client certificate',
    stderr:
      'Error in configuration: \n' +
      '* client-key-data or client-key must be specified for u to use the clientCert authentication method.\n' +
      '* unable to read client-cert /nonexist.crt for u due to open /nonexist.crt: no such file or directory\n',
    type: KubeconfigInvalid,
    message:
      'unusable kubeconfig: client-key-data or client-key must be specified for u to use the clientCert authentication method.',
  },
  {
    name: '--cluster naming nothing',
    stderr: 'error: no server found for cluster "nope"\n',
    type: KubeconfigInvalid,
    message: 'unusable kubeconfig: cluster "nope" is not defined',
  },
  {
    name: '--user naming nothing',
    stderr: 'error: auth info "nope" does not exist\n',
    type: KubeconfigInvalid,
    message: 'unusable kubeconfig: user "nope" is not defined',
  },
  {
    name: '--context naming nothing (get, exec, port-forward)',
    stderr: 'Error in configuration: context was not found for specified context: nope\n',
    type: ContextNotFound,
    fields: { context: 'nope' },
    message: 'kubeconfig context "nope" does not exist',
  },
  {
    name: '--context naming nothing (config view --minify)',
    stderr: 'error: cannot locate context nope\n',
    type: ContextNotFound,
    fields: { context: 'nope' },
    message: 'kubeconfig context "nope" does not exist',
  },
  {
    name: 'context "x" does not exist',
    stderr: 'error: context "nope" does not exist\n',
    type: ContextNotFound,
    fields: { context: 'nope' },
    message: /"nope"/,
  },
  {
    name: 'config use-context',
    stderr: 'error: no context exists with the name: "nope"\n',
    type: ContextNotFound,
    fields: { context: 'nope' },
    message: /"nope"/,
  },
  {
    name: 'pod not found',
    args: GET_POD,
    stderr: 'Error from server (NotFound): pods "web-1" not found\n',
    type: NotFound,
    fields: { resource: 'pods', objectName: 'web-1', namespace: 'shop' },
    message: 'pod "web-1" not found in namespace "shop"',
  },
  {
    name: 'deployment not found (group-qualified)',
    args: ['get', 'deployments.apps', 'api', '-n', 'shop', '-o', 'json'],
    stderr: 'Error from server (NotFound): deployments.apps "api" not found\n',
    type: NotFound,
    fields: { resource: 'deployments.apps', objectName: 'api', remedy: 'list what exists with: kubectl get deployments -n shop' },
    message: 'deployment "api" not found in namespace "shop"',
  },
  {
    name: 'namespace not found',
    args: ['get', 'pod', 'missing', '-n', 'nope'],
    stderr: 'Error from server (NotFound): namespaces "nope" not found\n',
    type: NamespaceNotFound,
    fields: { namespace: 'nope' },
    message: 'namespace "nope" not found',
  },
  {
    name: 'exec: pod vanished between GET and upgrade',
    args: ['exec', '-i', 'web-1', '-c', 'app', '-n', 'shop', '--', 'python3', '-'],
    stderr: 'error: unable to upgrade connection: pod does not exist\n',
    type: NotFound,
    fields: { objectName: 'web-1', namespace: 'shop' },
    message: 'pod "web-1" not found in namespace "shop"',
  },
  {
    name: 'unknown resource type',
    stderr: 'error: the server doesn\'t have a resource type "foo"\n',
    type: UnknownResourceType,
    fields: { resourceType: 'foo' },
    message: 'the cluster doesn\'t have a resource type "foo"',
  },
  {
    name: 'RBAC: no pods/exec',
    args: ['exec', '-i', 'web-1', '-c', 'app', '-n', 'shop', '--', 'python3', '-'],
    stderr:
      'Error from server (Forbidden): pods "web-1" is forbidden: User "jane" cannot create resource "pods/exec" in API group "" in the namespace "shop"\n',
    type: Forbidden,
    fields: {
      detail: { user: 'jane', verb: 'create', resource: 'pods/exec', group: '', namespace: 'shop' },
      remedy:
        'ask a cluster admin for a Role in namespace "shop" with the rule {apiGroups: [""], resources: ["pods/exec"], verbs: ["create"]}',
    },
    message: 'forbidden: user "jane" cannot create pods/exec in namespace "shop"',
  },
  {
    name: 'RBAC: no pods/portforward (wrapped by port-forward)',
    stderr:
      'error: error upgrading connection: pods "x" is forbidden: User "jane" cannot create resource "pods/portforward" in API group "" in the namespace "default"\n',
    type: Forbidden,
    fields: { detail: { user: 'jane', verb: 'create', resource: 'pods/portforward', group: '', namespace: 'default' } },
    message: 'forbidden: user "jane" cannot create pods/portforward in namespace "default"',
  },
  {
    name: 'RBAC: cannot list pods, service account user',
    stderr:
      'Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:ci:deployer" cannot list resource "pods" in API group "" in the namespace "shop"\n',
    type: Forbidden,
    fields: { detail: { user: 'system:serviceaccount:ci:deployer', verb: 'list', resource: 'pods', group: '', namespace: 'shop' } },
    message: /cannot list pods/,
  },
  {
    name: 'RBAC: pre-1.11 wording',
    stderr:
      'Error from server (Forbidden): pods "p" is forbidden: User "system:serviceaccount:sebgoa:default" cannot create pods/exec in the namespace "sebgoa"\n',
    type: Forbidden,
    fields: { detail: expect.objectContaining({ verb: 'create', resource: 'pods/exec', namespace: 'sebgoa' }) },
    message: /cannot create pods\/exec/,
  },
  {
    name: 'kubelet refuses the API server',
    stderr: 'error: unable to upgrade connection: Forbidden (user=kubernetes, verb=create, resource=nodes, subresource=proxy)\n',
    type: Forbidden,
    message: /Forbidden \(user=kubernetes/,
  },
  {
    name: 'expired token',
    stderr: 'error: You must be logged in to the server (Unauthorized)\n',
    type: Unauthorized,
    message: 'the API server rejected your credentials (Unauthorized)',
  },
  {
    name: 'unauthorized discovery',
    stderr:
      klog('the server has asked for the client to provide credentials').repeat(5) +
      'error: You must be logged in to the server (the server has asked for the client to provide credentials)\n',
    type: Unauthorized,
    message: /rejected your credentials/,
  },
  {
    name: 'container missing (kubelet)',
    stderr: 'error: unable to upgrade connection: container not found ("nope")\n',
    type: ContainerNotFound,
    fields: { container: 'nope', pod: 'web-1', available: ['app', 'sidecar'] },
    message: 'container "nope" not found in pod "web-1" (it has: app, sidecar)',
  },
  {
    name: 'container missing (API server validation)',
    stderr: 'Error from server (BadRequest): container nope is not valid for pod x\n',
    type: ContainerNotFound,
    fields: { container: 'nope', pod: 'x' },
    message: /container "nope" not found in pod "x"/,
  },
  {
    name: 'exec into a completed pod',
    stderr: 'error: cannot exec into a container in a completed pod; current phase is Succeeded\n',
    type: PodNotRunning,
    fields: { phase: 'Succeeded', pod: 'web-1' },
    message: 'pod "web-1" is Succeeded, not Running',
  },
  {
    name: 'port-forward to a pending pod',
    stderr: 'error: unable to forward port because pod is not running. Current status=Pending\n',
    type: PodNotRunning,
    fields: { phase: 'Pending' },
    message: 'pod "web-1" is Pending, not Running',
  },
  {
    name: 'unscheduled pod',
    stderr: 'Error from server (BadRequest): pod web-2 does not have a host assigned\n',
    type: PodNotRunning,
    fields: { pod: 'web-2', phase: 'Pending' },
    message: 'pod "web-2" is Pending, not Running',
  },
  {
    name: 'port-forward: local port taken',
    stderr:
      'Unable to listen on port 5679: Listeners failed to create with the following errors: [unable to create listener: Error listen tcp4 127.0.0.1:5679: bind: address already in use]\n' +
      'error: unable to listen on any of the requested ports: [{5679 5678}]\n',
    type: LocalPortBusy,
    fields: { port: 5679, remedy: expect.stringContaining('--local-port 0') },
    message: 'local port 5679 is already in use',
  },
  {
    name: 'anything else: last meaningful line',
    args: ['get', 'pods', '--bogus'],
    stderr: "Error: unknown flag: --bogus\nSee 'kubectl get --help' for usage.\n",
    type: KubectlFailed,
    fields: { detail: 'unknown flag: --bogus' },
    message: 'kubectl get failed (exit 1): unknown flag: --bogus',
  },
  {
    name: 'bad --request-timeout value',
    args: ['--request-timeout', 'abc', 'get', 'pods'],
    stderr:
      'error: Invalid timeout value. Timeout must be a single integer in seconds, or an integer followed by a corresponding time unit (e.g. 1s | 2m | 3h)\n',
    type: KubectlFailed,
    message: /^kubectl get failed \(exit 1\): Invalid timeout value/,
  },
];

describe('mapKubectlFailure', () => {
  it.each(cases)('$name', ({ args = GET_POD, stderr, type, fields, message }) => {
    const error = mapKubectlFailure(args, 1, stderr, { pod: 'web-1', containers: ['app', 'sidecar'] });
    expect(error).toBeInstanceOf(type);
    expect(error.name).toBe(type.name);
    if (typeof message === 'string') expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
    expect(error.remedy).not.toBe('');
    expect(error.remedy).not.toContain('\n');
    expect(error).toMatchObject({ args, exitCode: 1, stderr, ...fields });
  });
});

describe('lastMeaningfulLine', () => {
  it('skips klog lines, warnings, usage hints and the remote exit line', () => {
    const stderr = [
      'I1125 13:19:53.041128   14041 round_trippers.go:553] GET https://x/api 200 OK',
      'Warning: v1 ComponentStatus is deprecated in v1.19+',
      'error: something broke',
      "See 'kubectl exec --help' for usage.",
      'command terminated with exit code 3',
      '',
    ].join('\n');
    expect(lastMeaningfulLine(stderr)).toBe('something broke');
  });
  it('is empty for empty stderr', () => {
    expect(lastMeaningfulLine('')).toBe('');
  });
});

describe('namespaceOf', () => {
  it.each([
    [['get', 'pods', '-n', 'a'], 'a'],
    [['get', 'pods', '--namespace', 'b'], 'b'],
    [['get', 'pods', '--namespace=c'], 'c'],
    [['get', 'pods', '-nd'], 'd'],
    [['exec', 'p', '--', 'python3', '-n', 'x'], undefined],
    [['get', 'pods'], undefined],
  ])('%j → %s', (args, expected) => {
    expect(namespaceOf(args)).toBe(expected);
  });
});

describe('commandLine', () => {
  it('quotes only what a shell would need', () => {
    expect(commandLine(['get', 'pods', '-l', 'app in (a,b)', "it's"])).toBe(`get pods -l 'app in (a,b)' 'it'\\''s'`);
  });
});
