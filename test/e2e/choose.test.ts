/**
 * Choosing a pod as users do: `--pod` by a unique start of its name (an ambiguous one lists the
 * candidates, a usage mistake), and the prompts on a real pseudo-terminal (tmux): each pod's CPU and
 * memory, the answer echoed by name, Esc leaving nothing behind.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SCENARIOS } from './support/apps';
import { startInPty, type Pty } from './support/pty';
import { e2eAvailable, startWandEnv, type WandEnv } from './support/wand-env';

const run = e2eAvailable() ? describe : describe.skip;
jest.setTimeout(180_000);

const REPLICAS = SCENARIOS['multi-replica'];
const GUNICORN = SCENARIOS['gunicorn-2-workers'];

/** The shortest start of `name` that no other name shares. */
function uniquePrefix(name: string, others: string[]): string {
  for (let n = 1; n <= name.length; n++) {
    const prefix = name.slice(0, n);
    if (!others.some((o) => o !== name && o.startsWith(prefix))) return prefix;
  }
  return name;
}

run('choosing pods', () => {
  let env: WandEnv;
  let pods: string[];

  beforeAll(async () => {
    env = await startWandEnv([REPLICAS.manifest, GUNICORN.manifest]);
    await env.waitServing([REPLICAS.namespace, GUNICORN.namespace], 8000);
    const r = await env.kubectl(['get', 'pods', '-n', REPLICAS.namespace, '-o', 'jsonpath={.items[*].metadata.name}']);
    pods = r.stdout.trim().split(/\s+/).sort();
  });
  afterAll(async () => {
    await env?.stop();
  });

  test('--pod takes a unique start of a pod name', async () => {
    expect(pods).toHaveLength(REPLICAS.replicas);
    const target = pods[1]!;
    const prefix = uniquePrefix(target, pods);
    expect(prefix.length).toBeLessThan(target.length);
    const r = await env.wand(['stack', `svc/${REPLICAS.service}`, '-n', REPLICAS.namespace, '--pod', prefix]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`pod ${target}, container ${REPLICAS.container}`);
  });

  test('an ambiguous start lists the candidates: usage error, exit 2, with a hint', async () => {
    const r = await env.wand(['stack', `svc/${REPLICAS.service}`, '-n', REPLICAS.namespace, '--pod', 'api-']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: --pod api- matches 3 pods: ${pods.join(', ')}$`, 'm'));
    expect(r.stderr).toMatch(/^hint: type more of the name: --pod takes a unique start of one of: /m);
    expect(r.kubectlCalls.filter((c) => c[0] === 'exec')).toHaveLength(0);
  });

  let runs = 0;
  /** `kubectl wand ARGS` on a terminal (CI unset: prompts only on a terminal, never in CI) */
  async function onTerminal(args: string[]): Promise<{ pty: Pty; calls: () => string[][] }> {
    const log = path.join(os.tmpdir(), `wand-pty-calls-${process.pid}-${++runs}.jsonl`);
    const ptyEnv: NodeJS.ProcessEnv = { ...env.env, WAND_CALL_LOG: log, TERM: 'xterm-256color' };
    delete ptyEnv.CI;
    const pty = await startInPty(['kubectl', 'wand', ...args], ptyEnv);
    const calls = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]) : []);
    return { pty, calls };
  }

  /** kubectl processes still running for this namespace (a forgotten exec or port-forward) */
  function leftBehind(namespace: string): string[] {
    const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    return ps.split('\n').filter((l) => /kubectl/.test(l) && l.includes(namespace) && /\b(exec|port-forward)\b/.test(l));
  }

  test('pty: the pod prompt shows each pod with CPU and memory; the answer is echoed by name', async () => {
    const { pty, calls } = await onTerminal(['stack', `svc/${REPLICAS.service}`, '-n', REPLICAS.namespace]);
    try {
      const screen = await pty.waitFor(/Which pod\?[\s\S]*NAME\s+READY\s+RESTARTS\s+AGE\s+CPU\s+MEMORY\s+PYTHON/);
      for (const pod of pods) {
        expect(screen).toMatch(new RegExp(`${pod}\\s+ready\\s+0\\s+\\S+\\s+\\d+m\\s+[\\d.]+(Ki|Mi|Gi)\\s+\\S`));
      }
      await pty.send(['Down']);
      await pty.send(['Enter']);
      expect(await pty.exited()).toBe(0);
      const after = await pty.screen();
      const echoed = /✔ Which pod\?[\s\S]*?· (\S+)/.exec(after);
      expect(echoed).not.toBeNull();
      expect(pods).toContain(echoed![1]);
      expect(after).toContain(`pod ${echoed![1]}, container ${REPLICAS.container}`);
      // the figures come from metrics.k8s.io: one call for every pod
      expect(calls().filter((c) => c.includes('--raw'))).toEqual([['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/${REPLICAS.namespace}/pods`]]);
      // the listing behind the prompt is reused: one exec per pod, then the stack's own
      expect(calls().filter((c) => c[0] === 'exec')).toHaveLength(pods.length + 1);
      if (process.env.SHOW_SCREENS) process.stderr.write(`${screen}\n----\n${after}\n`);
    } finally {
      await pty.close();
    }
  });

  test('pty: typing filters the pods; Esc cancels: exit 130, nothing left behind', async () => {
    const { pty, calls } = await onTerminal(['stack', `svc/${REPLICAS.service}`, '-n', REPLICAS.namespace]);
    try {
      await pty.waitFor(/Which pod\?/);
      await pty.send([pods[2]!], { literal: true });
      // the screen first shows the typed text over the whole list: wait for the list to narrow
      const filtered = await pty.waitFor(new RegExp(`^(?![\\s\\S]*${pods[0]}\\s+ready)[\\s\\S]*${pods[2]}\\s+ready`));
      expect(filtered).not.toMatch(new RegExp(`${pods[0]}\\s+ready`));
      await pty.send(['Escape']);
      expect(await pty.exited()).toBe(130);
      expect(await pty.screen()).not.toMatch(/error|Traceback/);
      // only the listings behind the prompt ran: one agent `list` exec per pod, all finished
      expect(calls().filter((c) => c[0] === 'exec')).toHaveLength(pods.length);
      expect(calls().some((c) => c[0] === 'port-forward')).toBe(false);
      expect(leftBehind(REPLICAS.namespace)).toEqual([]);
    } finally {
      await pty.close();
    }
  });

  test('pty: the process prompt of a gunicorn pod lists both workers with their figures', async () => {
    const { pty } = await onTerminal(['stack', `svc/${GUNICORN.service}`, '-n', GUNICORN.namespace]);
    try {
      const screen = await pty.waitFor(/Which process\?[\s\S]*PID\s+ROLE\s+CPU\s+MEMORY\s+UPTIME\s+COMMAND/);
      const workers = screen.split('\n').filter((l) => /★ \d+\s+worker\s+[\d.]+%\s+[\d.]+(Ki|Mi)\s+\S+\s+.*gunicorn/.test(l));
      expect(workers).toHaveLength(2);
      await pty.send(['Enter']);
      expect(await pty.exited()).toBe(0);
      expect(await pty.screen()).toMatch(/✔ Which process\?[\s\S]*?· PID \d+/);
      if (process.env.SHOW_SCREENS) process.stderr.write(`${screen}\n----\n${await pty.screen()}\n`);
    } finally {
      await pty.close();
    }
  });
});
