/** `kubectl wand completion install [--dir DIR] [--copy] [--force]` and `kubectl wand completion print` */
import type { Argv, CommandModule } from 'yargs';
import { color } from '../ui/colors';
import { helperFileName, helperScript, installHelper } from './completion-install';

interface InstallArgs {
  dir?: string;
  copy: boolean;
  force: boolean;
}

const installCommand: CommandModule<object, InstallArgs> = {
  command: 'install',
  describe: 'Put the completion helper kubectl_complete-wand beside the installed kubectl-wand',
  builder: (y: Argv) =>
    y
      .option('dir', { type: 'string', describe: 'Directory for the helper (default: where kubectl-wand is on PATH)' })
      .option('copy', { type: 'boolean', default: false, describe: 'Copy the executable instead of linking to it' })
      .option('force', { type: 'boolean', default: false, describe: 'Replace an existing, different kubectl_complete-wand' })
      .example('$0 completion install', 'Then `kubectl wand <TAB>` completes (with kubectl completion set up)') as Argv<InstallArgs>,
  handler: async (args) => {
    const result = await installHelper({ dir: args.dir, copy: args.copy, force: args.force });
    const what = result.how === 'symlink' ? `a link to ${result.plugin}` : result.how === 'copy' ? `a copy of ${result.plugin}` : `a script running ${result.plugin}`;
    process.stdout.write(`${result.unchanged ? 'already installed' : 'installed'}: ${result.helper} (${what})\n`);
    if (!result.onPath) {
      process.stderr.write(`${color.yellow('warning:')} ${result.helper} is not in a directory on PATH, so kubectl will not find it\n`);
    }
    process.stdout.write('kubectl (>= 1.26) now completes `kubectl wand …` wherever its own completion is set up, e.g. source <(kubectl completion bash)\n');
  },
};

const printCommand: CommandModule = {
  command: 'print',
  describe: `Print a shell-script ${helperFileName('linux')} (save it on PATH, chmod +x) and how to use it`,
  builder: (y: Argv) => y,
  handler: () => {
    process.stdout.write(helperScript());
  },
};

export const completionCommand: CommandModule = {
  command: 'completion',
  describe: 'Set up shell completion of kubectl wand through kubectl (install | print)',
  builder: (y: Argv) =>
    y
      .command(installCommand)
      .command(printCommand)
      .demandCommand(1, 'Say install or print.'),
  handler: () => undefined,
};
