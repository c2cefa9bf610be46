/**
 * Shell completion for `kubectl wand …`, served by kubectl_complete-wand (this executable under
 * that name). kubectl ≥ 1.26 runs it with the words after `wand`, the last one being the word under
 * the cursor (possibly empty), and expects one candidate per line (`value<TAB>description`) and a
 * last line `:<directive>`.
 *
 * `complete` is pure: the commands and flags come in as a spec (derived from the yargs parser, see
 * ./completion-spec) and cluster data through a small lister (./completion-lister runs kubectl).
 */
import { parseTarget, RESOURCE as RESOURCE_OF, type Target, type TargetInput } from '../session/targets';
import type { GlobalFlags } from './options';

/** cobra's ShellCompDirective bits, which kubectl passes on to the shell. */
export const Directive = {
  Default: 0,
  Error: 1,
  NoSpace: 2,
  NoFileComp: 4,
  KeepOrder: 32,
} as const;

export interface Candidate {
  value: string;
  description?: string;
}

export interface Completion {
  candidates: Candidate[];
  directive: number;
}

export interface FlagSpec {
  /** canonical (long) name, as yargs keys it */
  name: string;
  /** other names: one letter → `-n`, longer → `--name` */
  aliases: readonly string[];
  description: string;
  /** false for booleans */
  takesValue: boolean;
  /** numbers never complete to file names */
  type?: 'string' | 'number' | 'boolean';
  choices?: readonly string[];
}

export interface CommandSpec {
  name: string;
  description: string;
  /** positional argument names in order (`pods [target]` → ['target']) */
  positionals: readonly string[];
  flags: readonly FlagSpec[];
  commands: readonly CommandSpec[];
}

/** The kubectl flags that choose what a lister sees, read from the words already typed. */
export type KubeScope = Pick<GlobalFlags, 'namespace' | 'context' | 'kubeconfig' | 'cluster' | 'user' | 'as'>;

export type KubeconfigList = 'contexts' | 'clusters' | 'users';

/** What completion needs from the cluster; every method may reject (treated as "nothing"). */
export interface CompletionLister {
  /** object names of a resource (`pods`, `services`, `deployments.apps`, `namespaces` …) */
  names(scope: KubeScope, resource: string): Promise<string[]>;
  /** contexts, clusters or users of the kubeconfig */
  kubeconfig(scope: KubeScope, list: KubeconfigList): Promise<string[]>;
  /** names of the pods a target resolves to */
  pods(scope: KubeScope, target: Target): Promise<string[]>;
  /** containers of the pods a target resolves to */
  containers(scope: KubeScope, target: Target): Promise<Candidate[]>;
}

/** TYPE/ prefixes offered for TARGET, in the spelling `kubectl wand --help` uses. */
const TARGET_TYPES: readonly Candidate[] = [
  { value: 'svc/', description: 'Service' },
  { value: 'deploy/', description: 'Deployment' },
  { value: 'sts/', description: 'StatefulSet' },
  { value: 'rs/', description: 'ReplicaSet' },
  { value: 'ds/', description: 'DaemonSet' },
  { value: 'job/', description: 'Job' },
  { value: 'pod/', description: 'Pod' },
];


/** string flags whose value is never a file name (other string flags get the shell's file completion) */
const NOT_A_FILE = new Set(['selector', 'as', 'request-timeout', 'code', 'module']);

const SCOPE_FLAGS: readonly (keyof KubeScope)[] = ['namespace', 'context', 'kubeconfig', 'cluster', 'user', 'as'];

/** What the words before the cursor say. */
interface Parsed {
  command: CommandSpec;
  /** flag name → last value given (booleans: 'true') */
  values: Map<string, string>;
  positionals: string[];
  /** the flag whose value is the current word */
  pendingFlag?: FlagSpec;
  afterDashDash: boolean;
}

export async function complete(words: readonly string[], spec: CommandSpec, lister: CompletionLister): Promise<Completion> {
  const current = words.length > 0 ? words[words.length - 1]! : '';
  const parsed = parseWords(spec, words.slice(0, -1));
  const scope = scopeOf(parsed.values);

  if (parsed.pendingFlag) return flagValue(parsed, parsed.pendingFlag, current, '', scope, lister);
  if (!parsed.afterDashDash && current.startsWith('--') && current.includes('=')) {
    const eq = current.indexOf('=');
    const flag = findFlag(parsed.command, current.slice(2, eq));
    if (!flag?.takesValue) return none();
    return flagValue(parsed, flag, current.slice(eq + 1), current.slice(0, eq + 1), scope, lister);
  }
  if (!parsed.afterDashDash && current.startsWith('-')) return flagNames(parsed, current);
  if (parsed.afterDashDash) return none();

  const { command, positionals } = parsed;
  if (positionals.length === 0 && command.commands.length > 0) {
    return {
      candidates: command.commands.filter((c) => c.name.startsWith(current)).map((c) => ({ value: c.name, description: c.description })),
      directive: Directive.NoFileComp,
    };
  }
  const positional = command.positionals[positionals.length];
  if (positional === 'target' && !parsed.values.has('selector') && !parsed.values.has('service')) {
    return targets(current, scope, lister);
  }
  return none();
}

/** kubectl_complete-wand's output: candidates, then `:<directive>`. */
export function formatCompletion(completion: Completion): string {
  const lines = completion.candidates.map(({ value, description }) => {
    const text = (description ?? '').split('\n')[0]!.replace(/\t/g, ' ').trim();
    return text ? `${value}\t${text}` : value;
  });
  return [...lines, `:${completion.directive}`].join('\n') + '\n';
}

function none(directive: number = Directive.NoFileComp): Completion {
  return { candidates: [], directive };
}

function parseWords(spec: CommandSpec, done: readonly string[]): Parsed {
  const parsed: Parsed = { command: spec, values: new Map(), positionals: [], afterDashDash: false };
  for (const word of done) {
    if (parsed.pendingFlag) {
      parsed.values.set(parsed.pendingFlag.name, word);
      parsed.pendingFlag = undefined;
    } else if (parsed.afterDashDash) {
      parsed.positionals.push(word);
    } else if (word === '--') {
      parsed.afterDashDash = true;
    } else if (word.startsWith('-') && word !== '-') {
      readFlag(parsed, word);
    } else {
      const sub = parsed.positionals.length === 0 ? parsed.command.commands.find((c) => c.name === word) : undefined;
      if (sub) parsed.command = sub;
      else parsed.positionals.push(word);
    }
  }
  return parsed;
}

/** `--name=value`, `--name value`, `-n value`, `-nvalue`, `--flag`, `--no-flag`; unknown flags are skipped. */
function readFlag(parsed: Parsed, word: string): void {
  const long = word.startsWith('--');
  const body = word.slice(long ? 2 : 1);
  const eq = body.indexOf('=');
  let name = eq >= 0 ? body.slice(0, eq) : body;
  let inline = eq >= 0 ? body.slice(eq + 1) : undefined;
  if (!long && name.length > 1 && inline === undefined) {
    // -nshop: a one-letter flag with its value attached
    inline = name.slice(1);
    name = name[0]!;
  }
  const flag = findFlag(parsed.command, name) ?? (name.startsWith('no-') ? findFlag(parsed.command, name.slice(3)) : undefined);
  if (!flag) return;
  if (!flag.takesValue) parsed.values.set(flag.name, 'true');
  else if (inline !== undefined) parsed.values.set(flag.name, inline);
  else parsed.pendingFlag = flag;
}

function findFlag(command: CommandSpec, name: string): FlagSpec | undefined {
  return command.flags.find((f) => f.name === name || f.aliases.includes(name));
}

function scopeOf(values: Map<string, string>): KubeScope {
  const scope: KubeScope = {};
  for (const key of SCOPE_FLAGS) {
    const value = values.get(key);
    if (value) scope[key] = value;
  }
  return scope;
}

function flagNames(parsed: Parsed, current: string): Completion {
  const withShort = !current.startsWith('--');
  const candidates: Candidate[] = [];
  for (const flag of parsed.command.flags) {
    if (parsed.values.has(flag.name) && flag.name !== 'help') continue;
    const names = [flag.name, ...flag.aliases].filter((n) => n.length > 1 || withShort);
    for (const name of names) {
      const value = name.length === 1 ? `-${name}` : `--${name}`;
      if (value.startsWith(current)) candidates.push({ value, description: flag.description });
    }
  }
  return { candidates, directive: Directive.NoFileComp };
}

async function flagValue(
  parsed: Parsed,
  flag: FlagSpec,
  current: string,
  prefix: string,
  scope: KubeScope,
  lister: CompletionLister,
): Promise<Completion> {
  const matching = (values: readonly string[]): Completion => ({
    candidates: values.filter((v) => v.startsWith(current)).map((value) => ({ value: prefix + value })),
    directive: Directive.NoFileComp,
  });
  if (flag.choices) return matching(flag.choices);
  switch (flag.name) {
    case 'namespace':
      return matching(await quietly(lister.names({ ...scope, namespace: undefined }, 'namespaces')));
    case 'context':
      return matching(await quietly(lister.kubeconfig(scope, 'contexts')));
    case 'cluster':
      return matching(await quietly(lister.kubeconfig(scope, 'clusters')));
    case 'user':
      return matching(await quietly(lister.kubeconfig(scope, 'users')));
    case 'service':
      return matching(await quietly(lister.names(scope, 'services')));
    case 'container': {
      const target = typedTarget(parsed);
      if (!target) return none();
      const containers = await quietly(lister.containers(scope, target));
      return {
        candidates: containers.filter((c) => c.value.startsWith(current)).map((c) => ({ ...c, value: prefix + c.value })),
        directive: Directive.NoFileComp,
      };
    }
    case 'pod': {
      const target = typedTarget(parsed);
      return matching(await quietly(target ? lister.pods(scope, target) : lister.names(scope, 'pods')));
    }
    default:
      // as cobra does for flags it knows nothing about: let the shell complete file names
      return flag.type === 'number' || NOT_A_FILE.has(flag.name) ? none() : none(Directive.Default);
  }
}

/** The target the words name (TARGET, -l or -s), if any and if valid. */
function typedTarget(parsed: Parsed): Target | undefined {
  const input: TargetInput = {
    target: parsed.command.positionals[0] === 'target' ? parsed.positionals[0] : undefined,
    selector: parsed.values.get('selector'),
    service: parsed.values.get('service'),
  };
  try {
    return parseTarget(input);
  } catch {
    return undefined;
  }
}

async function targets(current: string, scope: KubeScope, lister: CompletionLister): Promise<Completion> {
  const slash = current.indexOf('/');
  if (slash < 0) {
    // a bare NAME is a pod; TYPE/ starts the other forms (kubectl exec completes the same way)
    const pods = (await quietly(lister.names(scope, 'pods'))).filter((name) => name.startsWith(current));
    const types = TARGET_TYPES.filter((t) => t.value.startsWith(current));
    return {
      candidates: [...pods.map((value) => ({ value })), ...types],
      directive: pods.length === 0 ? Directive.NoFileComp | Directive.NoSpace : Directive.NoFileComp,
    };
  }
  const type = current.slice(0, slash);
  const resource = resourceOfType(type);
  if (!resource) return none();
  const names = await quietly(lister.names(scope, resource));
  return {
    candidates: names.map((name) => ({ value: `${type}/${name}` })).filter((c) => c.value.startsWith(current)),
    directive: Directive.NoFileComp,
  };
}

/** `svc` → services, `deploy` → deployments.apps …; undefined for a type kubectl wand does not target. */
function resourceOfType(type: string): string | undefined {
  try {
    const target = parseTarget({ target: `${type}/x` });
    return target.kind === 'selector' ? undefined : RESOURCE_OF[target.kind];
  } catch {
    return undefined;
  }
}

async function quietly<T>(promise: Promise<T[]>): Promise<T[]> {
  try {
    return await promise;
  } catch (error) {
    if (process.env.WAND_DEBUG) process.stderr.write(`completion: ${(error as Error).message}\n`);
    return [];
  }
}
