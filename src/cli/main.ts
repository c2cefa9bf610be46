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
import { podsCommand } from './pods';
import { execCommand } from './exec';
import { stackCommand } from './stack';
import { doctorCommand } from './doctor';

export const SCRIPT_NAME = 'kubectl wand';

export function buildParser(args: string[]) {
  return yargs(args)
    .scriptName(SCRIPT_NAME)
    .usage('$0 <command> [TARGET] [flags]\n\nAttach a debugger to a live Python 3.14 process in a Kubernetes pod.')
    .command(podsCommand)
    .command(execCommand)
    .command(stackCommand)
    .command(doctorCommand)
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

function invokedAsCompletion(argv1: string | undefined): boolean {
  return Boolean(argv1 && path.basename(argv1).startsWith('kubectl_complete-'));
}

export async function main(argv: string[] = process.argv): Promise<number> {
  if (invokedAsCompletion(argv[1])) {
    const { runCompletion } = await import('./completion');
    return runCompletion(hideBin(argv));
  }
  try {
    await buildParser(hideBin(argv)).parseAsync();
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
