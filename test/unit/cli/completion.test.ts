/**
 * complete(): the words kubectl passes to kubectl_complete-wand → candidates and a directive,
 * over the real command tree (read off the yargs parser) and an in-memory lister.
 */
import { buildParser, completionWords } from '../../../src/cli/main';
import {
  complete,
  Directive,
  formatCompletion,
  type Candidate,
  type CommandSpec,
  type CompletionLister,
  type KubeScope,
} from '../../../src/cli/completion';
import { specFromParser } from '../../../src/cli/completion-spec';
import type { Target } from '../../../src/session/targets';

interface Call {
  method: string;
  scope: KubeScope;
  arg: unknown;
}

/** A cluster of two namespaces; every call is recorded. */
function fakeLister(overrides: Partial<CompletionLister> = {}): CompletionLister & { calls: Call[] } {
  const objects: Record<string, Record<string, string[]>> = {
    shop: { pods: ['api-7d9-abcde', 'web-5f4-xyz12'], services: ['api', 'web'], 'deployments.apps': ['api', 'web'], 'jobs.batch': ['migrate'] },
    default: { pods: ['hello'], services: ['kubernetes'] },
  };
  const calls: Call[] = [];
  return {
    calls,
    async names(scope, resource) {
      calls.push({ method: 'names', scope, arg: resource });
      if (resource === 'namespaces') return Object.keys(objects);
      return objects[scope.namespace ?? 'default']?.[resource] ?? [];
    },
    async kubeconfig(scope, list) {
      calls.push({ method: 'kubeconfig', scope, arg: list });
      return { contexts: ['dev', 'prod'], clusters: ['kind'], users: ['admin'] }[list];
    },
    async pods(scope, target) {
      calls.push({ method: 'pods', scope, arg: target });
      return ['api-7d9-abcde'];
    },
    async containers(scope, target): Promise<Candidate[]> {
      calls.push({ method: 'containers', scope, arg: target });
      return [
        { value: 'app', description: 'python:3.14' },
        { value: 'istio-proxy', description: 'istio/proxyv2' },
      ];
    },
    ...overrides,
  };
}

const spec: CommandSpec = specFromParser(buildParser([]));
const values = (c: { candidates: Candidate[] }) => c.candidates.map((x) => x.value);

describe('the command tree read off the yargs parser', () => {
  test('every registered command, with its positionals and flags', () => {
    const names = spec.commands.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['pods', 'completion']));
    const pods = spec.commands.find((c) => c.name === 'pods')!;
    expect(pods.positionals).toEqual(['target']);
    expect(pods.description).toMatch(/pods/i);
    const namespace = pods.flags.find((f) => f.name === 'namespace')!;
    expect(namespace).toMatchObject({ aliases: ['n'], takesValue: true, type: 'string' });
    expect(pods.flags.find((f) => f.name === 'with-pids')).toMatchObject({ takesValue: false, type: 'boolean' });
    expect(pods.flags.find((f) => f.name === 'output')!.choices).toEqual(['table', 'wide', 'json']);
    expect(pods.flags.find((f) => f.name === 'v')).toMatchObject({ type: 'number' });
    expect(pods.flags.map((f) => f.name)).not.toContain('target');
  });

  test('--version only at the root; completion has install and print', () => {
    expect(spec.flags.map((f) => f.name).sort()).toEqual(['help', 'version']);
    for (const command of spec.commands) expect(command.flags.map((f) => f.name)).not.toContain('version');
    const completion = spec.commands.find((c) => c.name === 'completion')!;
    expect(completion.commands.map((c) => c.name).sort()).toEqual(['install', 'print']);
    const install = completion.commands.find((c) => c.name === 'install')!;
    expect(install.flags.map((f) => f.name)).toEqual(expect.arrayContaining(['dir', 'copy', 'force']));
  });

  test('every command that takes a TARGET has the kubectl flags', () => {
    const targeted = spec.commands.filter((c) => c.positionals[0] === 'target');
    expect(targeted.map((c) => c.name)).toContain('pods');
    for (const command of targeted) {
      const flags = command.flags.map((f) => f.name);
      expect({ command: command.name, flags }).toEqual({ command: command.name, flags: expect.arrayContaining(['namespace', 'context', 'kubeconfig', 'container']) });
    }
  });
});

describe('complete', () => {
  test('subcommands with their descriptions, filtered by the word', async () => {
    const all = await complete([''], spec, fakeLister());
    expect(values(all)).toEqual(expect.arrayContaining(['pods', 'completion']));
    expect(all.candidates.find((c) => c.value === 'pods')!.description).toMatch(/List pods/);
    expect(all.directive).toBe(Directive.NoFileComp);
    expect(values(await complete(['p'], spec, fakeLister()))).toEqual(['pods']);
    expect(values(await complete(['completion', ''], spec, fakeLister())).sort()).toEqual(['install', 'print']);
  });

  test('no words at all is the empty word', async () => {
    expect(values(await complete([], spec, fakeLister()))).toEqual(values(await complete([''], spec, fakeLister())));
  });

  test('flags: long ones after --, short ones too after -, given ones left out', async () => {
    const long = values(await complete(['pods', '--'], spec, fakeLister()));
    expect(long).toEqual(expect.arrayContaining(['--namespace', '--context', '--kubeconfig', '--with-pids', '--output']));
    expect(long.filter((f) => !f.startsWith('--'))).toEqual([]);
    const both = values(await complete(['pods', '-'], spec, fakeLister()));
    expect(both).toEqual(expect.arrayContaining(['-n', '--namespace', '-c', '-o', '-l']));
    expect(values(await complete(['pods', '--with'], spec, fakeLister()))).toEqual(['--with-pids']);
    expect(values(await complete(['pods', '--with-pids', '--with'], spec, fakeLister()))).toEqual([]);
    expect(values(await complete(['pods', '-n', 'shop', '--name'], spec, fakeLister()))).toEqual([]);
  });

  test('namespaces after -n / --namespace / --namespace=', async () => {
    const lister = fakeLister();
    expect(values(await complete(['pods', '-n', ''], spec, lister))).toEqual(['shop', 'default']);
    expect(values(await complete(['pods', '--namespace', 'sh'], spec, lister))).toEqual(['shop']);
    expect(values(await complete(['pods', '--namespace=sh'], spec, lister))).toEqual(['--namespace=shop']);
    expect(lister.calls.every((c) => c.arg === 'namespaces')).toBe(true);
  });

  test('the kubeconfig lists honour --kubeconfig and --context already typed', async () => {
    const lister = fakeLister();
    expect(values(await complete(['pods', '--kubeconfig', '/k', '--context', ''], spec, lister))).toEqual(['dev', 'prod']);
    expect(lister.calls[0]).toEqual({ method: 'kubeconfig', scope: { kubeconfig: '/k' }, arg: 'contexts' });
    expect(values(await complete(['pods', '--cluster', ''], spec, lister))).toEqual(['kind']);
    expect(values(await complete(['pods', '--user', 'a'], spec, lister))).toEqual(['admin']);
  });

  test('choices after -o', async () => {
    expect(values(await complete(['pods', '-o', ''], spec, fakeLister()))).toEqual(['table', 'wide', 'json']);
    expect(values(await complete(['pods', '-o', 'w'], spec, fakeLister()))).toEqual(['wide']);
  });

  test('TYPE/NAME: names of that type in the namespace typed, in the spelling typed', async () => {
    const lister = fakeLister();
    const services = await complete(['pods', '-n', 'shop', 'svc/'], spec, lister);
    expect(services).toEqual({ candidates: [{ value: 'svc/api' }, { value: 'svc/web' }], directive: Directive.NoFileComp });
    expect(lister.calls).toEqual([{ method: 'names', scope: { namespace: 'shop' }, arg: 'services' }]);
    expect(values(await complete(['pods', '-nshop', 'deploy/w'], spec, lister))).toEqual(['deploy/web']);
    expect(lister.calls[1]).toMatchObject({ scope: { namespace: 'shop' }, arg: 'deployments.apps' });
    expect(values(await complete(['pods', '--namespace=shop', 'deployments/a'], spec, lister))).toEqual(['deployments/api']);
    expect(values(await complete(['pods', '-n', 'shop', 'job/'], spec, lister))).toEqual(['job/migrate']);
    expect(values(await complete(['pods', 'svc/'], spec, lister))).toEqual(['svc/kubernetes']);
    expect(lister.calls.at(-1)!.scope).toEqual({});
  });

  test('a type kubectl wand does not target completes nothing and asks nothing', async () => {
    const lister = fakeLister();
    expect(await complete(['pods', 'configmap/'], spec, lister)).toEqual({ candidates: [], directive: Directive.NoFileComp });
    expect(lister.calls).toEqual([]);
  });

  test('a bare word: pod names first, then the TYPE/ prefixes; only prefixes → no space', async () => {
    const all = await complete(['pods', '-n', 'shop', ''], spec, fakeLister());
    expect(values(all)).toEqual(['api-7d9-abcde', 'web-5f4-xyz12', 'svc/', 'deploy/', 'sts/', 'rs/', 'ds/', 'job/', 'pod/']);
    expect(all.directive).toBe(Directive.NoFileComp);
    const prefixes = await complete(['pods', '-n', 'shop', 's'], spec, fakeLister());
    expect(prefixes).toEqual({
      candidates: [
        { value: 'svc/', description: 'Service' },
        { value: 'sts/', description: 'StatefulSet' },
      ],
      directive: Directive.NoFileComp | Directive.NoSpace,
    });
  });

  test('every command with a TARGET completes it', async () => {
    for (const command of spec.commands.filter((c) => c.positionals[0] === 'target')) {
      expect({ command: command.name, values: values(await complete([command.name, '-n', 'shop', 'svc/a'], spec, fakeLister())) }).toEqual({
        command: command.name,
        values: ['svc/api'],
      });
    }
  });

  test('only the first positional is a TARGET; after -l or -s there is none', async () => {
    const lister = fakeLister();
    expect(values(await complete(['pods', 'svc/api', ''], spec, lister))).toEqual([]);
    expect(values(await complete(['pods', '-l', 'app=api', ''], spec, lister))).toEqual([]);
    expect(values(await complete(['pods', '-s', 'api', ''], spec, lister))).toEqual([]);
    expect(lister.calls).toEqual([]);
  });

  test('containers after -c: of the target typed (TARGET, -l or -s), none without one', async () => {
    const lister = fakeLister();
    const typed = await complete(['pods', 'deploy/api', '-n', 'shop', '-c', ''], spec, lister);
    expect(typed.candidates).toEqual([
      { value: 'app', description: 'python:3.14' },
      { value: 'istio-proxy', description: 'istio/proxyv2' },
    ]);
    const target: Target = { kind: 'deployment', name: 'api' };
    expect(lister.calls).toEqual([{ method: 'containers', scope: { namespace: 'shop' }, arg: target }]);
    expect(values(await complete(['pods', '-c', 'i', '-l', 'app=api'], spec, lister))).toEqual([]);
    expect(values(await complete(['pods', '-l', 'app=api', '-c', 'i'], spec, lister))).toEqual(['istio-proxy']);
    expect(lister.calls.at(-1)!.arg).toEqual({ kind: 'selector', selector: 'app=api' });
    expect(values(await complete(['pods', '-s', 'api', '--container='], spec, lister))).toEqual(['--container=app', '--container=istio-proxy']);
    const calls = lister.calls.length;
    expect(values(await complete(['pods', '-c', ''], spec, lister))).toEqual([]);
    expect(lister.calls).toHaveLength(calls);
  });

  test('a lister that fails gives no candidates, not an error', async () => {
    const lister = fakeLister({ names: () => Promise.reject(new Error('connection refused')) });
    expect(await complete(['pods', 'svc/'], spec, lister)).toEqual({ candidates: [], directive: Directive.NoFileComp });
    const bare = await complete(['pods', ''], spec, lister);
    expect(values(bare)).toEqual(['svc/', 'deploy/', 'sts/', 'rs/', 'ds/', 'job/', 'pod/']);
  });

  test('file names for --kubeconfig and unknown string flags, nothing for numbers and after --', async () => {
    expect(await complete(['pods', '--kubeconfig', ''], spec, fakeLister())).toEqual({ candidates: [], directive: Directive.Default });
    expect(await complete(['completion', 'install', '--dir', ''], spec, fakeLister())).toEqual({ candidates: [], directive: Directive.Default });
    expect(await complete(['pods', '-v', ''], spec, fakeLister())).toEqual({ candidates: [], directive: Directive.NoFileComp });
    expect(await complete(['pods', '-l', ''], spec, fakeLister())).toEqual({ candidates: [], directive: Directive.NoFileComp });
    expect(await complete(['pods', '--', ''], spec, fakeLister())).toEqual({ candidates: [], directive: Directive.NoFileComp });
  });

  test('a boolean flag takes no value: the next word is the TARGET', async () => {
    expect(values(await complete(['pods', '--with-pids', '-n', 'shop', 'svc/w'], spec, fakeLister()))).toEqual(['svc/web']);
    expect(values(await complete(['pods', '--no-with-pids', '-n', 'shop', 'svc/w'], spec, fakeLister()))).toEqual(['svc/web']);
  });

  test('--pod: the pods of the target typed, else those of the namespace', async () => {
    const fixture: CommandSpec = {
      name: '',
      description: '',
      positionals: [],
      flags: [],
      commands: [
        {
          name: 'debug',
          description: 'Debug',
          positionals: ['target'],
          commands: [],
          flags: [
            { name: 'namespace', aliases: ['n'], description: '', takesValue: true, type: 'string' },
            { name: 'pod', aliases: [], description: '', takesValue: true, type: 'string' },
            { name: 'port', aliases: [], description: '', takesValue: true, type: 'number' },
          ],
        },
      ],
    };
    const lister = fakeLister();
    expect(values(await complete(['debug', 'svc/api', '-n', 'shop', '--pod', ''], fixture, lister))).toEqual(['api-7d9-abcde']);
    expect(lister.calls).toEqual([{ method: 'pods', scope: { namespace: 'shop' }, arg: { kind: 'service', name: 'api' } }]);
    expect(values(await complete(['debug', '-n', 'shop', '--pod', 'w'], fixture, lister))).toEqual(['web-5f4-xyz12']);
    expect(await complete(['debug', '--port', ''], fixture, lister)).toEqual({ candidates: [], directive: Directive.NoFileComp });
  });

  test('an unknown flag is skipped', async () => {
    expect(values(await complete(['pods', '--bogus', '-n', 'shop', 'svc/w'], spec, fakeLister()))).toEqual(['svc/web']);
  });
});

describe('formatCompletion', () => {
  test('one candidate a line, TAB before a one-line description, then :directive', () => {
    const text = formatCompletion({
      candidates: [{ value: 'pods', description: 'List pods\nsecond line' }, { value: 'svc/api' }, { value: 'x', description: 'a\tb' }],
      directive: 6,
    });
    expect(text).toBe('pods\tList pods\nsvc/api\nx\ta b\n:6\n');
    expect(formatCompletion({ candidates: [], directive: 4 })).toBe(':4\n');
  });
});

describe('completionWords (how main knows it is the helper)', () => {
  test('as kubectl_complete-wand every argument is a word', () => {
    expect(completionWords(['/usr/bin/node', '/home/u/bin/kubectl_complete-wand', 'pods', ''])).toEqual(['pods', '']);
    expect(completionWords(['/usr/local/bin/kubectl_complete-wand', 'kubectl_complete-wand', 'pods', 'svc/'])).toEqual(['pods', 'svc/']);
  });

  test('as kubectl-wand only behind __complete', () => {
    expect(completionWords(['/usr/bin/node', '/x/kubectl-wand', '__complete', 'pods', ''])).toEqual(['pods', '']);
    expect(completionWords(['/usr/bin/node', '/x/kubectl-wand', 'pods', '__complete'])).toBeUndefined();
    expect(completionWords(['/usr/bin/node', '/x/kubectl-wand', '--version'])).toBeUndefined();
  });
});
