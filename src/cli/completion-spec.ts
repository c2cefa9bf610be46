/**
 * The command tree completion works from, read off the yargs parser itself so that every command
 * and flag registered in ./main completes without a second list to keep in step. yargs 17 has no
 * public API for this: the reads of its internals are all here, and test/unit/cli/completion.test.ts
 * runs them against the real parser.
 */
import yargs, { type Argv } from 'yargs';
import type { CommandSpec, FlagSpec } from './completion';

interface YargsOptions {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
  boolean: string[];
  number: string[];
  count?: string[];
  choices: Record<string, readonly unknown[]>;
  hiddenOptions: string[];
}

interface CommandHandler {
  original: string;
  description: string | false;
  builder: ((y: Argv) => unknown) | Record<string, unknown>;
  demanded: { cmd: string[] }[];
  optional: { cmd: string[] }[];
}

interface Introspectable {
  getOptions(): YargsOptions;
  getInternalMethods(): Internals;
}

interface Internals {
  getCommandInstance(): { getCommandHandlers(): Record<string, CommandHandler> };
  getUsageInstance(): { getDescriptions(): Record<string, string | undefined> };
}

function introspect(y: Argv<unknown>): Introspectable {
  return y as unknown as Introspectable;
}

/** The root command: its subcommands and flags (--help, --version). */
export function specFromParser(parser: Argv<unknown>): CommandSpec {
  return specOf(parser, '', '', []);
}

function specOf(y: Argv<unknown>, name: string, description: string, positionals: string[]): CommandSpec {
  const options = introspect(y).getOptions();
  const internals = introspect(y).getInternalMethods();
  const descriptions = internals.getUsageInstance().getDescriptions();
  const handlers = internals.getCommandInstance().getCommandHandlers();
  const aliasOf = new Set(Object.values(options.alias).flat());
  const flags: FlagSpec[] = Object.keys(options.key)
    .filter((key) => !aliasOf.has(key) && !positionals.includes(key) && !options.hiddenOptions.includes(key))
    // yargs gives every command --version; it only means something on the root
    .filter((key) => key !== 'version' || name === '')
    .map((key) => ({
      name: key,
      aliases: options.alias[key] ?? [],
      description: cleanDescription(descriptions[key]),
      takesValue: !options.boolean.includes(key) && !(options.count ?? []).includes(key),
      type: options.boolean.includes(key) ? ('boolean' as const) : options.number.includes(key) ? ('number' as const) : ('string' as const),
      ...(options.choices[key] ? { choices: options.choices[key].map(String) } : {}),
    }));
  const commands = Object.entries(handlers)
    .filter(([, handler]) => handler.description !== false)
    .map(([command, handler]) => commandSpec(command, handler));
  return { name, description, positionals, flags, commands };
}

function commandSpec(name: string, handler: CommandHandler): CommandSpec {
  const positionals = [...handler.demanded, ...handler.optional].flatMap((p) => p.cmd.slice(0, 1));
  const child = yargs([]);
  if (typeof handler.builder === 'function') handler.builder(child);
  else child.options(handler.builder as Record<string, object>);
  return specOf(child, name, String(handler.description || ''), positionals);
}

/** yargs marks its own strings `__yargsString__:` for translation. */
function cleanDescription(text: string | undefined): string {
  return (text ?? '').replace(/^__yargsString__:/, '');
}
