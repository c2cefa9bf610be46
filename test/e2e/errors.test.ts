/**
 * The bad-input catalogue, end to end: every way a user can point `kubectl wand` at the wrong
 * thing (or at a thing that cannot be debugged) ends in one `error:` line naming the cause, one
 * `hint:` line with the remedy, a non-zero exit, no JavaScript stack and no Python traceback,
 * within seconds — and the app it was pointed at keeps serving. README.md's "Error catalogue"
 * lists the same cases.
 *
 * Not repeated here (see the suites that own them): pods.test.ts (the `pods` command's NotFound
 * and unknown -c), doctor.test.ts (doctor's unknown context and RBAC checklist), exec.test.ts
 * (--code syntax error, missing -f file, no code / code given twice), stack.test.ts (--pid 4242),
 * debug.test.ts (blocked main thread).
 */
import { existsSync, promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SCENARIOS } from './support/apps';
import { httpGetInPod } from './support/http-in-pod';
import { e2eAvailable, startWandEnv, type WandEnv } from './support/wand-env';

const run = e2eAvailable() ? describe : describe.skip;
jest.setTimeout(60_000);

const UVICORN = SCENARIOS['fastapi-uvicorn-reload'];
const PY38 = SCENARIOS.py38;
const ENV_OFF = SCENARIOS['remote-debug-disabled/env-off'];
const FLAG_OFF = SCENARIOS['remote-debug-disabled/flag-off'];
const FIXTURE = path.join(__dirname, 'fixtures/hardening.yaml');
const HARD = 'wand-hardening';
const ROOT = path.resolve(__dirname, '../..');

/** marker files a shell would create if a target name were ever interpolated into a command line */
const MARKERS = ['/tmp/pwned', path.join(ROOT, 'x'), path.join(ROOT, 'wand-pwned')];

/** The pod whose app must still answer after the case: namespace, pod (name or label), container. */
interface Served {
  namespace: string;
  pod: string | { label: string };
  container: string;
}
const SERVED_UVICORN: Served = { namespace: UVICORN.namespace, pod: { label: 'app=api' }, container: UVICORN.container };
const served = (namespace: string, pod: string | { label: string }, container = 'app'): Served => ({ namespace, pod, container });

interface Case {
  /** the catalogue's name for the case */
  name: string;
  args: string[] | ((ctx: Ctx) => string[]);
  message: RegExp;
  /** default /^hint: \S/ — the remedy line */
  hint?: RegExp;
  /** 2 for usage errors (the command line itself is wrong), else 1 */
  code?: number;
  input?: string;
  env?: (ctx: Ctx) => NodeJS.ProcessEnv;
  /** the app cannot be asked (the emulator refuses exec into a Terminating pod): assert instead
   * that kubectl wand never exec'd into it */
  noExec?: boolean;
  serving?: Served;
}

interface Ctx {
  busyPort: number;
  unreachableKubeconfig: string;
  brokenKubeconfig: string;
  scratch: string;
  otherUserAppPid: number;
}

const uvicorn = (...args: string[]) => ['-n', UVICORN.namespace, ...args];

const CASES: Case[] = [
  // --- the pod is leaving: first, while it is still Terminating (see beforeAll)
  { name: 'pod Terminating', args: ['debug', 'pod/stubborn', '-n', HARD, '--local-port', '0'], message: /^error: no Running pod \(stubborn Terminating\)$/m, hint: /^hint: check the pods with: kubectl get pods -n wand-hardening$/m, noExec: true },
  { name: 'pod Terminating (exec)', args: ['exec', 'pod/stubborn', '-n', HARD, '--code', '1'], message: /^error: no Running pod \(stubborn Terminating\)$/m, noExec: true },
  { name: 'pod never started (Failed)', args: ['debug', 'pod/broken', '-n', HARD], message: /^error: no Running pod \(broken Failed\)$/m },

  // --- what the target names
  { name: 'unknown namespace', args: ['debug', 'svc/api', '-n', 'nope', '--local-port', '0'], message: /^error: namespace "nope" not found$/m, hint: /^hint: check -n\/--namespace/m },
  { name: 'unknown service', args: ['debug', ...uvicorn('svc/nope')], message: /^error: service "nope" not found in namespace "wand-uvicorn"$/m, hint: /^hint: list what exists with: kubectl get services -n wand-uvicorn$/m },
  { name: 'unknown deployment', args: ['exec', ...uvicorn('deploy/nope', '--code', '1')], message: /^error: deployment "nope" not found in namespace "wand-uvicorn"$/m },
  { name: 'unknown pod', args: ['stack', ...uvicorn('pod/nope')], message: /^error: pod "nope" not found in namespace "wand-uvicorn"$/m, hint: /^hint: list what exists with: kubectl get pods -n wand-uvicorn$/m },
  { name: 'unknown resource type', code: 2, args: ['debug', ...uvicorn('foo/bar')], message: /^error: kubectl wand doesn't have a resource type "foo"$/m, hint: /^hint: target one of: pod\/NAME/m },
  { name: 'no target (stdin not a TTY)', code: 2, args: ['debug', ...uvicorn()], message: /^error: no target given$/m, hint: /^hint: name one: pod\/NAME/m },
  { name: 'empty label selector', code: 2, args: ['debug', ...uvicorn('-l', ' ')], message: /^error: empty label selector$/m, hint: /^hint: e\.g\. -l app=web$/m },
  { name: 'Service without selector', args: ['debug', 'svc/noselector', '-n', HARD], message: /^error: service noselector has no selector$/m, hint: /^hint: target its pods directly: pod\/NAME or -l SELECTOR$/m },
  { name: 'selector matching no pod', args: ['exec', ...uvicorn('-l', 'app=nothing-here', '--code', '1')], message: /^error: no pods match selector "app=nothing-here" in namespace "wand-uvicorn"$/m },
  { name: '--pod not of the target', args: ['debug', ...uvicorn('svc/api', '--pod', 'nope')], message: /^error: no pod named nope$/m, hint: /^hint: choose one of the pods of the target with --pod NAME$/m },

  // --- names carrying shell metacharacters: never interpolated (markers checked after each)
  { name: "shell metacharacters: svc/'$(touch /tmp/pwned)'", code: 2, args: ['debug', 'svc/$(touch /tmp/pwned)', '-n', HARD], message: /^error: invalid svc name "\$\(touch \/tmp\/pwned\)"$/m },
  { name: 'shell metacharacters: pod/;rm -rf x', args: ['debug', 'pod/;rm -rf x', '-n', HARD], message: /^error: pod ";rm -rf x" not found in namespace "wand-hardening"$/m },
  { name: 'shell metacharacters: pod/$(touch wand-pwned)', args: ['exec', 'pod/$(touch wand-pwned)', '-n', HARD, '--code', '1'], message: /^error: pod "\$\(touch wand-pwned\)" not found in namespace "wand-hardening"$/m },
  { name: 'shell metacharacters: -l `touch wand-pwned`', args: ['stack', '-l', 'app=`touch wand-pwned`', '-n', HARD], message: /^error: .*(not found|no pods match|invalid|unable to parse).*$/m },

  // --- the process
  { name: '--pid absent', args: ['debug', ...uvicorn('svc/api', '--pid', '99999', '--local-port', '0')], message: /^error: no process with PID 99999 in this container; Python processes: /m, hint: /^hint: list the processes with: kubectl wand pods pod\/\S+ -n wand-uvicorn --with-pids$/m },
  { name: '--pid not a number', args: ['debug', ...uvicorn('svc/api', '--pid', 'abc')], code: 2, message: /^error: --pid must be a process ID \(a positive whole number\)$/m },
  { name: '--pid not a Python process', args: ['debug', 'pod/otheruser', '-n', HARD, '-c', 'sidecar', '--pid', '1', '--local-port', '0'], message: /^error: PID 1 \(.*\) is not a Python process$/m, serving: served(HARD, 'otheruser') },
  { name: 'unknown container', args: ['debug', ...uvicorn('svc/api', '-c', 'nope')], message: /^error: container "nope" not found in pod "api-\S+" \(it has: api\)$/m, hint: /^hint: pick one with -c: api$/m },
  { name: 'Python 3.8', args: ['debug', `svc/${PY38.service}`, '-n', PY38.namespace, '--local-port', '0'], message: /^error: cannot debug PID 1: Python 3\.8\.\d+: kubectl-wand needs 3\.9\+ \(3\.9-3\.13 through its ptrace injector, 3\.14\+ through sys\.remote_exec\)$/m, hint: /^hint: kubectl-wand needs Python 3\.9\+ in the target \(3\.9–3\.13 on x86_64 nodes\): upgrade the image/m, serving: served(PY38.namespace, { label: 'app=py38' }, PY38.container) },
  { name: 'remote debugging disabled (PYTHON_DISABLE_REMOTE_DEBUG)', args: ['debug', `svc/${ENV_OFF.service}`, '-n', ENV_OFF.namespace, '--local-port', '0'], message: /^error: cannot debug PID 1: PYTHON_DISABLE_REMOTE_DEBUG is set in its environment$/m, hint: /^hint: remove PYTHON_DISABLE_REMOTE_DEBUG/m, serving: served(ENV_OFF.namespace, { label: 'app=env-off' }) },
  { name: 'remote debugging disabled (-X disable-remote-debug)', args: ['exec', `svc/${FLAG_OFF.service}`, '-n', FLAG_OFF.namespace, '--code', '1'], message: /^error: cannot debug PID 1: .*disable-remote-debug/m, hint: /^hint: remove PYTHON_DISABLE_REMOTE_DEBUG \/ -X disable-remote-debug/m, serving: served(FLAG_OFF.namespace, { label: 'app=flag-off' }) },
  { name: 'app runs as another user than the exec (shared PID namespace, uid 1000 vs 2000)', args: (c) => ['debug', 'pod/otheruser', '-n', HARD, '-c', 'sidecar', '--pid', String(c.otherUserAppPid), '--local-port', '0', '--ephemeral', 'never'], message: /^error: cannot debug PID \d+: no permission to trace it: it runs as uid 1000, the agent as uid 2000 without CAP_SYS_PTRACE$/m, hint: /^hint: run the app as the same user as kubectl exec, or give the container CAP_SYS_PTRACE/m, serving: served(HARD, 'otheruser') },
  { name: 'read-only /tmp, /dev/shm, /var/tmp and working directory', args: ['debug', 'pod/rofs', '-n', HARD, '--local-port', '0'], message: /^error: no writable directory for the injected script: tried \/tmp \(Read-only file system\), \/dev\/shm \(Read-only file system\), \/var\/tmp \(Read-only file system\), \/app \(Read-only file system\)$/m, hint: /^hint: .*mount an emptyDir at \/tmp$/m, serving: served(HARD, 'rofs') },

  // --- flags
  { name: '--port 0', args: ['debug', ...uvicorn('svc/api', '--port', '0')], code: 2, message: /^error: --port must be a whole number from 1 to 65535, not 0$/m },
  { name: '--port 70000', args: ['debug', ...uvicorn('svc/api', '--port', '70000')], code: 2, message: /^error: --port must be a whole number from 1 to 65535, not 70000$/m },
  { name: '--local-port -1', args: ['debug', ...uvicorn('svc/api', '--local-port=-1')], code: 2, message: /^error: --local-port must be a whole number from 0 to 65535, not -1$/m },
  { name: 'local port busy', args: (c) => ['debug', ...uvicorn('svc/api', '--local-port', String(c.busyPort))], message: /^error: local port \d+ is already in use$/m, hint: /^hint: choose another with --local-port N, or --local-port 0/m },
  { name: '--timeout 0', args: ['exec', ...uvicorn('svc/api', '--timeout', '0', '--code', '1')], code: 2, message: /^error: --timeout must be a positive number of seconds$/m },
  { name: '--request-timeout abc', args: ['pods', ...uvicorn('--request-timeout', 'abc')], code: 2, message: /^error: --request-timeout must be a duration such as 30s, 2m or 1m30s, not abc$/m },
  { name: 'unknown output format', args: ['pods', ...uvicorn('-o', 'yaml')], code: 2, message: /^error: Invalid values:\n\s+Argument: output, Given: "yaml", Choices: "table", "wide", "json"$/m },
  { name: 'unknown flag', args: ['debug', ...uvicorn('svc/api', '--frobnicate')], code: 2, message: /^error: Unknown argument: frobnicate$/m, hint: /^hint: run 'kubectl wand --help' for usage$/m },
  { name: 'unknown command', args: ['frob'], code: 2, message: /^error: Unknown command: frob$/m },

  // --- kubectl, kubeconfig, cluster, RBAC
  { name: 'unknown --context', args: ['debug', ...uvicorn('svc/api', '--context', 'nope')], message: /^error: kubeconfig context "nope" does not exist$/m, hint: /^hint: pick one of: kubectl config get-contexts$/m },
  { name: '--kubeconfig missing', args: ['exec', ...uvicorn('svc/api', '--kubeconfig', '/nonexistent/kubeconfig', '--code', '1')], message: /^error: unusable kubeconfig: \/nonexistent\/kubeconfig does not exist$/m },
  { name: '--kubeconfig not a kubeconfig', args: (c) => ['debug', ...uvicorn('svc/api', '--kubeconfig', c.brokenKubeconfig)], message: /^error: unusable kubeconfig: /m, hint: /^hint: check --kubeconfig \/ KUBECONFIG/m },
  { name: 'kubectl not installed', args: ['debug', ...uvicorn('svc/api')], env: () => ({ KUBECTL_PATH: '/nonexistent/kubectl' }), message: /^error: kubectl not found: cannot run "\/nonexistent\/kubectl"$/m, hint: /^hint: install kubectl .* or set KUBECTL_PATH/m },
  { name: 'kubectl not executable', args: ['stack', ...uvicorn('svc/api')], env: (c) => ({ KUBECTL_PATH: path.join(c.scratch, 'not-executable') }), message: /^error: kubectl is not executable: ".*not-executable"$/m },
  { name: 'API server unreachable', args: (c) => ['debug', ...uvicorn('svc/api', '--kubeconfig', c.unreachableKubeconfig)], message: /^error: cannot reach the API server 127\.0\.0\.1:1: connection refused$/m, hint: /^hint: check that the cluster is up/m },
  { name: 'RBAC: pods/exec denied', args: ['debug', ...uvicorn('svc/api', '--context', 'wand-test-noexec', '--local-port', '0')], message: /^error: forbidden: user "noexec" cannot create pods\/exec in namespace "wand-uvicorn"$/m, hint: /^hint: ask a cluster admin for a Role in namespace "wand-uvicorn" with the rule \{apiGroups: \[""\], resources: \["pods\/exec"\], verbs: \["create"\]\}$/m },

  // --- exec's code (variants exec.test.ts does not cover)
  { name: 'exec -f a directory', code: 2, args: (c) => ['exec', ...uvicorn('svc/api', '-f', c.scratch)], message: /^error: cannot read -f \S+: it is a directory/m, hint: /^hint: give the path of a Python file/m },
  { name: 'exec -f with a syntax error', args: (c) => ['exec', ...uvicorn('svc/api', '-q', '-f', path.join(c.scratch, 'bad.py'))], message: /^error: syntax error in \S+bad\.py at line 2, column 6: '\(' was never closed — nothing was injected$/m, hint: /^hint: fix line 2, column 6: print\(x$/m },
  { name: 'exec - with empty stdin', args: ['exec', ...uvicorn('svc/api', '-')], input: '', code: 2, message: /^error: the code from stdin is empty$/m },
];

run('kubectl wand: the error catalogue', () => {
  let env: WandEnv;
  let busy: net.Server;
  const ctx = {} as Ctx;

  beforeAll(async () => {
    for (const marker of MARKERS) await fs.rm(marker, { recursive: true, force: true });
    env = await startWandEnv([UVICORN.manifest, PY38.manifest, ENV_OFF.manifest, FIXTURE]);
    await env.waitServing([UVICORN.namespace, PY38.namespace, ENV_OFF.namespace, HARD], 8000, 30_000);

    ctx.scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'wand-errors-'));
    await fs.writeFile(path.join(ctx.scratch, 'bad.py'), 'x = 1\nprint(x\n');
    await fs.writeFile(path.join(ctx.scratch, 'not-executable'), '#!/bin/sh\n', { mode: 0o644 });
    const kubeconfig = await fs.readFile(env.cluster.kubeconfig, 'utf8');
    expect(kubeconfig).toMatch(/server: https:\/\/\S+/);
    ctx.unreachableKubeconfig = path.join(ctx.scratch, 'unreachable.kubeconfig');
    await fs.writeFile(ctx.unreachableKubeconfig, kubeconfig.replace(/server: https:\/\/\S+/g, 'server: https://127.0.0.1:1'));
    ctx.brokenKubeconfig = path.join(ctx.scratch, 'broken.kubeconfig');
    await fs.writeFile(ctx.brokenKubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [oops\n');

    busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    ctx.busyPort = (busy.address() as net.AddressInfo).port;

    const listing = await env.wand(['pods', 'pod/otheruser', '-n', HARD, '-c', 'sidecar', '--with-pids', '-o', 'json']);
    expect(listing.code).toBe(0);
    const procs = (JSON.parse(listing.stdout) as { pods: Array<{ processes: Array<{ pid: number; user: string; command: string }> }> }).pods[0]!.processes;
    ctx.otherUserAppPid = procs.find((p) => p.command.includes('app.py'))!.pid;

    // stays Terminating for the first cases: it ignores SIGTERM; killed in afterAll
    env.cluster.deletePod(HARD, 'stubborn', 120);
    const deadline = Date.now() + 5000;
    while (!env.cluster.pods(HARD).find((p) => p.metadata.name === 'stubborn')?.metadata.deletionTimestamp) {
      if (Date.now() > deadline) throw new Error('stubborn was not marked Terminating');
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  afterAll(async () => {
    busy?.close();
    if (env) {
      await env.cluster.killContainer(HARD, 'stubborn', 'app').catch(() => undefined);
      await env.stop();
    }
    if (ctx.scratch) await fs.rm(ctx.scratch, { recursive: true, force: true });
  });

  function podOf(s: Served): string {
    if (typeof s.pod === 'string') return s.pod;
    return env.podName(s.namespace, s.pod.label);
  }

  test('the catalogue has at least 30 cases, each named once', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const args = typeof c.args === 'function' ? c.args(ctx) : c.args;
    const r = await env.wand(args, { env: c.env?.(ctx), input: c.input, timeoutMs: 30_000 });
    const why = `kubectl wand ${JSON.stringify(args)} → exit ${r.code}\nstderr:\n${r.stderr}`;

    expect({ why, code: r.code }).toEqual({ why, code: c.code ?? 1 });
    expect(r.stderr).toMatch(c.message);
    expect(r.stderr).toMatch(c.hint ?? /^hint: \S/m);
    // one error, its hint right after it; only the choice lines (→ pod, → container) before it
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('error: '))).toHaveLength(1);
    const errorAt = lines.findIndex((l) => l.startsWith('error: '));
    expect(lines.slice(0, errorAt).every((l) => l.startsWith('→ '))).toBe(true);
    expect(lines.slice(errorAt).findIndex((l) => l.startsWith('hint: '))).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).not.toMatch(/Traceback/);
    expect(r.stdout).toBe('');
    expect(r.ms).toBeLessThan(15_000);

    for (const marker of MARKERS) expect({ marker, exists: existsSync(marker) }).toEqual({ marker, exists: false });
    if (c.noExec) expect(r.kubectlCalls.filter((call) => call.includes('exec'))).toEqual([]);
    const s = c.serving ?? SERVED_UVICORN;
    const body = await httpGetInPod(['--kubeconfig', env.cluster.kubeconfig, '-n', s.namespace], podOf(s), s.container, 'http://127.0.0.1:8000/work?x=21', { timeoutMs: 10_000 });
    expect(JSON.parse(body)).toEqual({ value: 42 });
  });

  test('no pod got a shell-made marker either', async () => {
    const r = await env.kubectl(['exec', '-n', HARD, 'otheruser', '-c', 'sidecar', '--', 'python3', '-c', 'import os; print(os.path.exists("/tmp/pwned"))']);
    expect(r.stdout.trim()).toBe('False');
  });
});
