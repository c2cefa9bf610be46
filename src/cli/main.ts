#!/usr/bin/env node
/**
 * Entry point of `kubectl wand` (installed as kubectl-wand) and of its completion helper
 * (kubectl_complete-wand): one executable that looks at the name it was invoked by.
 */
import path from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { version } from '../version';
import { renderError, UsageError } from '../ui/errors';
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

export function buildParser(args: string[], scriptName: string = SCRIPT_NAME) {
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

/** Run as kubectl_complete-wand (a link to this executable), or as `kubectl-wand __complete …`. */
export function completionWords(argv: string[]): string[] | undefined {
  const args = hideBin(argv);
  if (argv[1] && path.basename(argv[1]).startsWith('kubectl_complete-')) return args;
  return args[0] === '__complete' ? args.slice(1) : undefined;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const words = completionWords(argv);
  if (words) {
    const { runCompletion } = await import('./completion');
    return runCompletion(words, buildParser([]));
  }
  try {
    await buildParser(hideBin(argv), scriptNameFor(argv[1])).parseAsync();
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    return renderError(err, process.stderr);
  }
}

if (require.main === module) {
  main().then((code) => {
    process.exitCode = code;
  });
}
