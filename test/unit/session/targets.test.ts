import { NotFound, UnknownResourceType } from '../../../src/kube/errors';
import { InvalidTarget, NoPods, NoSelector } from '../../../src/session/errors';
import { createKubectl } from '../../../src/kube/kubectl';
import {
  Target,
  describeTarget,
  labelSelectorString,
  parseTarget,
  resolvePods,
  serviceSelector,
} from '../../../src/session/targets';
import type { Pod, Service } from '../../../src/kube/types';
import { FakeKubectl, fakeKubectl, json } from '../kube/fake-kubectl';

describe('parseTarget', () => {
  it.each<[string, Target]>([
    ['web-1', { kind: 'pod', name: 'web-1' }],
    ['pod/web-1', { kind: 'pod', name: 'web-1' }],
    ['po/web-1', { kind: 'pod', name: 'web-1' }],
    ['pods/web-1', { kind: 'pod', name: 'web-1' }],
    ['svc/web', { kind: 'service', name: 'web' }],
    ['service/web', { kind: 'service', name: 'web' }],
    ['services/web', { kind: 'service', name: 'web' }],
    ['deploy/api', { kind: 'deployment', name: 'api' }],
    ['deployment/api', { kind: 'deployment', name: 'api' }],
    ['deployments/api', { kind: 'deployment', name: 'api' }],
    ['Deployment/api', { kind: 'deployment', name: 'api' }],
    ['deployments.apps/api', { kind: 'deployment', name: 'api' }],
    ['sts/db', { kind: 'statefulset', name: 'db' }],
    ['statefulset/db', { kind: 'statefulset', name: 'db' }],
    ['rs/api-7d9', { kind: 'replicaset', name: 'api-7d9' }],
    ['replicaset/api-7d9', { kind: 'replicaset', name: 'api-7d9' }],
    ['ds/agent', { kind: 'daemonset', name: 'agent' }],
    ['daemonset/agent', { kind: 'daemonset', name: 'agent' }],
    ['job/migrate', { kind: 'job', name: 'migrate' }],
    ['jobs.batch/migrate', { kind: 'job', name: 'migrate' }],
  ])('%s', (target, expected) => {
    expect(parseTarget({ target })).toEqual(expected);
  });

  it('takes -l SELECTOR', () => {
    expect(parseTarget({ selector: 'app=web,tier in (a,b)' })).toEqual({ kind: 'selector', selector: 'app=web,tier in (a,b)' });
  });

  it('takes -s/--service NAME as debugwand did', () => {
    expect(parseTarget({ service: 'web' })).toEqual({ kind: 'service', name: 'web' });
  });

  it("words an unknown type like kubectl's `the server doesn't have a resource type`", () => {
    const error = catchError(() => parseTarget({ target: 'foo/bar' }));
    expect(error).toBeInstanceOf(UnknownResourceType);
    expect(error).toMatchObject({
      resourceType: 'foo',
      message: 'kubectl wand doesn\'t have a resource type "foo"',
      remedy: expect.stringContaining('svc/NAME'),
    });
  });

  it('rejects a type with the wrong group', () => {
    expect(() => parseTarget({ target: 'deployments.batch/x' })).toThrow(UnknownResourceType);
  });

  it.each([
    [{}, 'no target given'],
    [{ target: 'a', selector: 'b=c' }, 'give only one of TARGET, -l/--selector and -s/--service'],
    [{ target: 'svc/' }, 'missing name after "svc/"'],
    [{ target: 'svc/a/b' }, 'invalid svc name "a/b"'],
    [{ selector: '  ' }, 'empty label selector'],
  ])('rejects %j', (input, message) => {
    const error = catchError(() => parseTarget(input));
    expect(error).toBeInstanceOf(InvalidTarget);
    expect((error as Error).message).toBe(message);
  });

  it('describes targets for messages', () => {
    expect(describeTarget({ kind: 'service', name: 'web' })).toBe('service/web');
    expect(describeTarget({ kind: 'selector', selector: 'app=web' })).toBe('-l app=web');
  });
});

describe('selectors', () => {
  it('turns matchLabels and matchExpressions into kubectl -l syntax', () => {
    expect(
      labelSelectorString({
        matchLabels: { app: 'web', tier: 'front' },
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['prod', 'staging'] },
          { key: 'canary', operator: 'NotIn', values: ['true'] },
          { key: 'team', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('app=web,tier=front,env in (prod,staging),canary notin (true),team,!legacy');
  });

  it('takes an ExternalName Service for a Knative Service', () => {
    const service: Service = { metadata: { name: 'hello' }, spec: { type: 'ExternalName', externalName: 'x.svc' } };
    expect(serviceSelector(service)).toBe('serving.knative.dev/service=hello');
  });

  it('refuses a Service without a selector', () => {
    const error = catchError(() => serviceSelector({ metadata: { name: 'db' }, spec: { type: 'ClusterIP' } }));
    expect(error).toBeInstanceOf(NoSelector);
    expect((error as Error).message).toBe('service db has no selector');
  });
});

describe('resolvePods', () => {
  let fake: FakeKubectl;
  afterEach(() => fake?.cleanup());

  const pod = (name: string, labels: Record<string, string> = {}): Pod => ({
    kind: 'Pod',
    metadata: { name, namespace: 'shop', labels, creationTimestamp: '2025-01-01T00:00:00Z' },
    spec: { containers: [{ name: 'app' }], nodeName: 'n1' },
    status: { phase: 'Running', containerStatuses: [{ name: 'app', ready: true, restartCount: 0, state: { running: {} } }] },
  });
  const podList = (...pods: Pod[]) => json({ kind: 'List', apiVersion: 'v1', items: pods, metadata: { resourceVersion: '' } });

  it('a pod: one call', async () => {
    fake = fakeKubectl([{ when: ['get', 'pod', 'web-1'], steps: [json(pod('web-1'))] }]);
    const kubectl = createKubectl({}, { env: fake.env });
    const pods = await resolvePods(kubectl, 'shop', { kind: 'pod', name: 'web-1' });
    expect(pods.map((p) => p.metadata.name)).toEqual(['web-1']);
    expect(kubectl.calls).toBe(1);
    expect(fake.calls()).toEqual([['get', 'pod', 'web-1', '-n', 'shop', '-o', 'json']]);
  });

  it('a missing pod: NotFound from kubectl', async () => {
    fake = fakeKubectl([
      { when: ['get', 'pod'], steps: [{ stderr: 'Error from server (NotFound): pods "nope" not found\n' }], exit: 1 },
    ]);
    const kubectl = createKubectl({}, { env: fake.env });
    await expect(resolvePods(kubectl, 'shop', { kind: 'pod', name: 'nope' })).rejects.toBeInstanceOf(NotFound);
  });

  it('a selector: one call', async () => {
    fake = fakeKubectl([{ when: ['get', 'pods'], steps: [podList(pod('a'), pod('b'))] }]);
    const kubectl = createKubectl({}, { env: fake.env });
    const pods = await resolvePods(kubectl, 'shop', { kind: 'selector', selector: 'app=web' });
    expect(pods.map((p) => p.metadata.name)).toEqual(['a', 'b']);
    expect(fake.calls()).toEqual([['get', 'pods', '-n', 'shop', '-l', 'app=web', '-o', 'json']]);
  });

  it('a service: two calls, its selector joined k=v', async () => {
    fake = fakeKubectl([
      {
        when: ['get', 'services', 'web'],
        steps: [json({ kind: 'Service', metadata: { name: 'web' }, spec: { type: 'ClusterIP', selector: { app: 'web', tier: 'front' } } })],
      },
      { when: ['get', 'pods'], steps: [podList(pod('web-1'))] },
    ]);
    const kubectl = createKubectl({}, { env: fake.env });
    const pods = await resolvePods(kubectl, 'shop', { kind: 'service', name: 'web' });
    expect(pods).toHaveLength(1);
    expect(kubectl.calls).toBe(2);
    expect(fake.calls()).toEqual([
      ['get', 'services', 'web', '-n', 'shop', '-o', 'json'],
      ['get', 'pods', '-n', 'shop', '-l', 'app=web,tier=front', '-o', 'json'],
    ]);
  });

  it('a Knative (ExternalName) service: two calls', async () => {
    fake = fakeKubectl([
      { when: ['get', 'services'], steps: [json({ metadata: { name: 'hello' }, spec: { type: 'ExternalName' } })] },
      { when: ['get', 'pods'], steps: [podList(pod('hello-00001-deployment-x'))] },
    ]);
    const kubectl = createKubectl({}, { env: fake.env });
    await resolvePods(kubectl, 'shop', { kind: 'service', name: 'hello' });
    expect(fake.calls()[1]).toEqual(['get', 'pods', '-n', 'shop', '-l', 'serving.knative.dev/service=hello', '-o', 'json']);
  });

  it('a deployment: two calls, matchLabels and matchExpressions', async () => {
    fake = fakeKubectl([
      {
        when: ['get', 'deployments.apps', 'api'],
        steps: [
          json({
            kind: 'Deployment',
            metadata: { name: 'api' },
            spec: { selector: { matchLabels: { app: 'api' }, matchExpressions: [{ key: 'track', operator: 'NotIn', values: ['canary'] }] } },
          }),
        ],
      },
      { when: ['get', 'pods'], steps: [podList(pod('api-1'))] },
    ]);
    const kubectl = createKubectl({}, { env: fake.env });
    await resolvePods(kubectl, 'shop', { kind: 'deployment', name: 'api' });
    expect(kubectl.calls).toBe(2);
    expect(fake.calls()).toEqual([
      ['get', 'deployments.apps', 'api', '-n', 'shop', '-o', 'json'],
      ['get', 'pods', '-n', 'shop', '-l', 'app=api,track notin (canary)', '-o', 'json'],
    ]);
  });

  it.each([
    ['statefulset', 'statefulsets.apps'],
    ['replicaset', 'replicasets.apps'],
    ['daemonset', 'daemonsets.apps'],
    ['job', 'jobs.batch'],
  ] as const)('a %s: fetched as %s, then its pods', async (kind, resource) => {
    fake = fakeKubectl([
      { when: ['get', resource, 'x'], steps: [json({ metadata: { name: 'x' }, spec: { selector: { matchLabels: { app: 'x' } } } })] },
      { when: ['get', 'pods'], steps: [podList(pod('x-0'))] },
    ]);
    const kubectl = createKubectl({}, { env: fake.env });
    await resolvePods(kubectl, 'shop', { kind, name: 'x' });
    expect(fake.calls().map((args) => args.slice(0, 3))).toEqual([
      ['get', resource, 'x'],
      ['get', 'pods', '-n'],
    ]);
  });

  it('no pods: NoPods naming the selector and where it came from', async () => {
    fake = fakeKubectl([
      { when: ['get', 'services'], steps: [json({ metadata: { name: 'web' }, spec: { selector: { app: 'web' } } })] },
      { when: ['get', 'pods'], steps: [podList()] },
    ]);
    const kubectl = createKubectl({}, { env: fake.env });
    const error = await resolvePods(kubectl, 'shop', { kind: 'service', name: 'web' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoPods);
    expect(error).toMatchObject({
      selector: 'app=web',
      message: 'no pods match selector "app=web" in namespace "shop" (from service/web)',
      remedy: "check with: kubectl get pods -n shop -l 'app=web'",
    });
  });

  it('a service without a selector: one call, then NoSelector', async () => {
    fake = fakeKubectl([{ when: ['get', 'services'], steps: [json({ metadata: { name: 'db' }, spec: { type: 'ClusterIP' } })] }]);
    const kubectl = createKubectl({}, { env: fake.env });
    await expect(resolvePods(kubectl, 'shop', { kind: 'service', name: 'db' })).rejects.toBeInstanceOf(NoSelector);
    expect(kubectl.calls).toBe(1);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
