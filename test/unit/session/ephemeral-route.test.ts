import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ProcessRecord } from '../../../src/agent/contract';
import type { Pod } from '../../../src/kube/types';
import { Forbidden, KubectlFailed } from '../../../src/kube/errors';
import { createKubectl } from '../../../src/kube/kubectl';
import { appProcessOf, appRunsAsNonRoot, EphemeralRefused, explainDebugFailure, hasCustom, openEphemeralSession, planDebugContainer, routeFor, runningDebugContainer } from '../../../src/session/ephemeral-route';
import { fakeKubectl } from '../kube/fake-kubectl';
import { FAKE_AGENT } from './fake-pod';
import { proc as record } from '../select/helpers';

/** a Python app process (pid 7) unless `over` says otherwise */
const proc = (over: Partial<ProcessRecord>): ProcessRecord => record(over.pid ?? 7, 1, over.argv ?? ['python3', 'app.py'], over);
const denied = (code: ProcessRecord['traceDeniedCode']) =>
  proc({ debuggable: false, reasonCode: 'permission-denied', traceDeniedCode: code, reason: 'no permission to trace it: Yama ptrace_scope=1 …' });

function pod(over: Partial<Pod['spec']> = {}, status: Pod['status'] = {}): Pod {
  return { metadata: { name: 'api-1', namespace: 'ns' }, spec: { containers: [{ name: 'api', image: 'app:1' }], ...over }, status } as Pod;
}

describe('routeFor', () => {
  test('auto takes the ephemeral route only for refusals a debugger container overcomes', () => {
    expect(routeFor('auto', [proc({})])).toBe('exec');
    expect(routeFor('auto', [denied('yama-scope-1')])).toBe('ephemeral');
    expect(routeFor('auto', [denied('other-uid')])).toBe('ephemeral');
    expect(routeFor('auto', [denied('yama-scope-3')])).toBe('exec');
    expect(routeFor('auto', [denied('no-process-vm')])).toBe('exec');
    expect(routeFor('auto', [proc({ pid: 3 }), denied('seccomp')], 3)).toBe('exec');
  });
  test('always and never decide alone', () => {
    expect(routeFor('always', [proc({})])).toBe('ephemeral');
    expect(routeFor('never', [denied('yama-scope-1')])).toBe('exec');
  });
});

describe('appProcessOf', () => {
  test("the agent works in the root of the app the exec'd agent listed, not PID 1 (pause's in a shared PID namespace)", () => {
    const pause = proc({ pid: 1, isPython: false, argv: ['/pause'], exe: '/pause', python: null });
    const sidecar = proc({ pid: 9, argv: ['python3', 'sidecar.py'] });
    expect(appProcessOf([pause, sidecar, { ...denied('yama-scope-1'), pid: 12 }])?.pid).toBe(12);
    expect(appProcessOf([pause, proc({ pid: 14 })])?.pid).toBe(14);
    expect(appProcessOf([pause])).toBeUndefined();
    expect(appProcessOf(undefined)).toBeUndefined();
  });
});

describe('planDebugContainer', () => {
  /** the --custom file's content (read before cleanup), or undefined without --custom */
  function customOf(plan: { argv: string[]; cleanup(): void }): unknown {
    const i = plan.argv.indexOf('--custom');
    const content = i < 0 ? undefined : JSON.parse(readFileSync(plan.argv[i + 1]!, 'utf8'));
    plan.cleanup();
    return content;
  }

  test("kubectl debug with --target, --profile general, -i and the app's image; --custom (stdinOnce, root for a non-root app) on kubectl 1.31+", () => {
    const plan = planDebugContainer(pod(), 'ns', 'api', { kubectlMinor: 32, appUid: 0 });
    expect(plan.reused).toBe(false);
    expect(plan.argv.slice(0, 13)).toEqual(['debug', 'api-1', '-n', 'ns', '--target', 'api', '--profile', 'general', '--image', 'app:1', '-c', plan.name, '-i']);
    expect(plan.argv.at(-1)).toMatch(/serve\(root_pid=1\)$/);
    expect(customOf(plan)).toEqual({ stdinOnce: true });
    expect(planDebugContainer(pod(), 'ns', 'api', { kubectlMinor: 32, rootPid: 7 }).argv.at(-1)).toMatch(/serve\(root_pid=7\)$/);
    const nonRoot = planDebugContainer(pod(), 'ns', 'api', { kubectlMinor: 32, appUid: 1000, image: 'python:3.14' });
    expect(nonRoot.argv).toContain('python:3.14');
    expect(customOf(nonRoot)).toEqual({ stdinOnce: true, securityContext: { runAsUser: 0 } });
    const enforced = planDebugContainer(pod({ securityContext: { runAsNonRoot: true, runAsUser: 1000 } }), 'ns', 'api', { kubectlMinor: 31 });
    expect(customOf(enforced)).toEqual({ stdinOnce: true, securityContext: { runAsUser: 0, runAsNonRoot: false } });
    expect(() => planDebugContainer(pod(), 'ns', 'api', { kubectlMinor: 27, appUid: 1000 })).toThrow(/kubectl 1\.27 cannot run the debugger container as root/);
    expect(planDebugContainer(pod(), 'ns', 'api', { kubectlMinor: 27, appUid: 1000, image: 'root-python' }).argv).not.toContain('--custom');
    expect(planDebugContainer(pod(), 'ns', 'api', { kubectlMinor: 29, appUid: 0 }).argv).not.toContain('--custom');
  });
  test('a running wand debugger container aimed at the same container is reused with kubectl exec -c', () => {
    const p = pod(
      { ephemeralContainers: [{ name: 'wand-debug-abc123', targetContainerName: 'api' }, { name: 'wand-debug-dead00', targetContainerName: 'api' }] },
      { ephemeralContainerStatuses: [{ name: 'wand-debug-abc123', ready: false, restartCount: 0, state: { running: {} } }, { name: 'wand-debug-dead00', ready: false, restartCount: 0, state: { terminated: { exitCode: 0 } } }] },
    );
    expect(runningDebugContainer(p, 'api')).toBe('wand-debug-abc123');
    expect(runningDebugContainer(p, 'other')).toBeUndefined();
    expect(runningDebugContainer(p, 'api', new Set(['wand-debug-abc123']))).toBeUndefined();
    const plan = planDebugContainer(p, 'ns', 'api', { kubectlMinor: 32 });
    expect(plan).toMatchObject({ reused: true, name: 'wand-debug-abc123' });
    expect(plan.argv.slice(0, 7)).toEqual(['exec', '-i', 'api-1', '-c', 'wand-debug-abc123', '-n', 'ns']);
  });
  test('non-root from the spec or the listed uid; --custom on 1.30 only behind the env switch', () => {
    expect(appRunsAsNonRoot(pod({ securityContext: { runAsUser: 1000 } }), 'api', undefined)).toBe(true);
    expect(appRunsAsNonRoot(pod(), 'api', 0)).toBe(false);
    expect(hasCustom(30, {})).toBe(false);
    expect(hasCustom(30, { KUBECTL_DEBUG_CUSTOM_PROFILE: 'true' })).toBe(true);
    expect(hasCustom(31, {})).toBe(true);
  });
});

describe('explainDebugFailure', () => {
  const call = (stderr: string) => ({ args: ['debug', 'api-1'], exitCode: 1, stderr });
  test("Pod Security: the level, the namespace and the API server's reason", () => {
    const stderr = 'Error from server (Forbidden): pods "api-1" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (container "wand-debug-abc123" must not include "SYS_PTRACE" in securityContext.capabilities.add)';
    const error = explainDebugFailure(new Forbidden({}, stderr, call(stderr)), 'shop') as EphemeralRefused;
    expect(error).toBeInstanceOf(EphemeralRefused);
    expect(error.message).toBe('Pod Security "baseline" in namespace "shop" refuses the debugger container: non-default capabilities (container "wand-debug-abc123" must not include "SYS_PTRACE" in securityContext.capabilities.add)');
    expect(error.remedy).toContain('pod-security.kubernetes.io/enforce');
  });
  test('RBAC on pods/ephemeralcontainers: the rule and the right can-i check', () => {
    const stderr = 'Error from server (Forbidden): pods "api-1" is forbidden: User "dev" cannot patch resource "pods/ephemeralcontainers" in API group "" in the namespace "shop"';
    const error = explainDebugFailure(new Forbidden({ verb: 'patch', resource: 'pods/ephemeralcontainers', namespace: 'shop' }, stderr, call(stderr)), 'shop') as EphemeralRefused;
    expect(error.code).toBe('EphemeralForbidden');
    expect(error.remedy).toContain('kubectl auth can-i patch pods --subresource ephemeralcontainers -n shop');
  });
  test('other failures pass through', () => {
    const other = new KubectlFailed('boom', call('boom'));
    expect(explainDebugFailure(other, 'shop')).toBe(other);
  });
});

describe('openEphemeralSession', () => {
  const running = pod({ ephemeralContainers: [{ name: 'wand-debug-old', targetContainerName: 'api' }] } as Partial<Pod['spec']>, {
    ephemeralContainerStatuses: [{ name: 'wand-debug-old', state: { running: {} } }],
  } as Pod['status']);

  test('a debugger container that ended since the pod was read (a dying session\'s) is replaced by a new one', async () => {
    const gone = 'error: unable to upgrade connection: container not found ("wand-debug-old")\n';
    const fake = fakeKubectl([
      { when: ['exec', '-i', 'api-1', '-c', 'wand-debug-old'], steps: [{ stderr: gone }], exit: 1 },
      { when: ['debug', 'api-1'], runLocal: true },
    ]);
    const kubectl = createKubectl({}, { env: { ...fake.env, FAKE_AGENT_DIR: path.dirname(fake.file('x')) } });
    writeFileSync(fake.file('agent.json'), JSON.stringify({ processes: [] }));
    const planned: Array<[string, boolean]> = [];
    try {
      const opened = await openEphemeralSession(kubectl, running, 'api', { agentSource: FAKE_AGENT, onPlanned: (name, reused) => planned.push([name, reused]) });
      await opened.session.close();
      expect(opened.reused).toBe(false);
      expect(opened.name).toMatch(/^wand-debug-[0-9a-f]{6}$/);
      expect(planned).toEqual([['wand-debug-old', true], [opened.name, false]]);
      expect(fake.calls().map((c) => c[0])).toEqual(['exec', 'debug']);
    } finally {
      fake.cleanup();
    }
  });

  test('any other failure of a reused container is the error', async () => {
    const fake = fakeKubectl([{ when: ['exec', '-i', 'api-1', '-c', 'wand-debug-old'], steps: [{ stderr: 'error: boom\n' }], exit: 1 }]);
    const kubectl = createKubectl({}, { env: fake.env });
    try {
      await expect(openEphemeralSession(kubectl, running, 'api', { agentSource: FAKE_AGENT })).rejects.toThrow(/boom/);
      expect(fake.calls().map((c) => c[0])).toEqual(['exec']);
    } finally {
      fake.cleanup();
    }
  });
});
