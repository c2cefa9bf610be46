#!/usr/bin/env node
/**
 * Entry point of `kubectl wand` (installed as kubectl-wand) and of its completion helper
 * (kubectl_complete-wand): one executable that looks at the name it was invoked by.
 *
 * Start-up time counts (every command starts with it): the command modules hold only their yargs
 * definitions, and each handler imports its implementation (./<command>-run) when it runs.
 */
import path from 'node:path';
import type { Argv } from 'yargs';
import { version } from '../version';
import { UsageError } from '../errors';
import { renderError } from '../ui/errors';
import { debugCommand } from './debug';
import { podsCommand } from './pods';
import { execCommand } from './exec';
import { stackCommand } from './stack';
import { doctorCommand } from './doctor';
import { completionCommand } from './completion-command';

export const SCRIPT_NAME = 'kubectl wand';

/** `kubectl-wand` → `kubectl wand`, `kubectl-my_wand.exe` → `kubectl my-wand`; else SCRIPT_NAME. */
export function scriptNameFor(invokedAs: string | undefined): string {
  const base = path.basename(invokedAs ?? '').replace(/\.(exe|js|cjs)$/i, '');
  const plugin = /^kubectl-(.+)$/.exec(base)?.[1];
  return plugin ? `kubectl ${plugin.replace(/_/g, '-')}` : SCRIPT_NAME;
}

export function buildParser(args: string[], scriptName: string = SCRIPT_NAME): Argv {
  // required here rather than imported, so that main can answer --version without loading yargs
  const yargs = require('yargs') as typeof import('yargs');
  return yargs(args)
    .scriptName(scriptName)
    .usage('$0 <command> [TARGET] [flags]\n\nAttach a debugger to a live Python 3.14 process in a Kubernetes pod.')
    .command(podsCommand)
    .command(debugCommand)
    .command(execCommand)
    .command(stackCommand)
    .command(doctorCommand)
    .command(completionCommand)
    .demandCommand(1, 'Say which command to run.')
    .strictCommands()
    .strictOptions()
    .version(version)
    .alias('help', 'h')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
}

/**
 * The words after the executable: yargs' hideBin (which needs all of yargs) for Node.js and its
 * single executables, where argv[1] is the script or the executable again.
 */
function argsOf(argv: string[]): string[] {
  return argv.slice(2);
}

/** Run as kubectl_complete-wand (a link to this executable), or as `kubectl-wand __complete …`. */
export function completionWords(argv: string[]): string[] | undefined {
  const args = argsOf(argv);
  if (argv[1] && path.basename(argv[1]).startsWith('kubectl_complete-')) return args;
  return args[0] === '__complete' ? args.slice(1) : undefined;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const words = completionWords(argv);
  if (words) {
    const { runCompletion } = await import('./completion-run');
    return runCompletion(words, buildParser([]));
  }
  const args = argsOf(argv);
  // answered before yargs loads (a third of the start-up time), exactly as yargs' .version() would print it
  if (args.length === 1 && args[0] === '--version') {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  try {
    await buildParser(args, scriptNameFor(argv[1])).parseAsync();
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    return renderError(err, process.stderr);
  }
}

if (require.main === module) {
  // main() never rejects: it renders every error and returns the exit code
  void main().then((code) => {
    process.exitCode = code;
  });
}
