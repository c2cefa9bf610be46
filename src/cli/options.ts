/** Flags every command shares: kubectl's own global flags, passed on to every kubectl call. */
import type { Argv } from 'yargs';
import { UsageError } from '../errors';
import { parseKubectlDuration } from '../kube/kubectl';

export interface GlobalFlags {
  namespace?: string;
  context?: string;
  kubeconfig?: string;
  cluster?: string;
  user?: string;
  as?: string;
  'request-timeout'?: string;
  v?: number;
}

export function withGlobalFlags<T>(y: Argv<T>): Argv<T & GlobalFlags> {
  return y
    .option('namespace', { alias: 'n', type: 'string', describe: "Namespace (default: the kubeconfig context's, else default)" })
    .option('context', { type: 'string', describe: 'The kubeconfig context to use' })
    .option('kubeconfig', { type: 'string', describe: 'Path to the kubeconfig file' })
    .option('cluster', { type: 'string', describe: 'The kubeconfig cluster to use' })
    .option('user', { type: 'string', describe: 'The kubeconfig user to use' })
    .option('as', { type: 'string', describe: 'Username to impersonate' })
    .option('request-timeout', { type: 'string', describe: 'Timeout of each kubectl request (e.g. 10s)' })
    .option('v', { type: 'number', describe: 'kubectl log level; also shows kubectl calls' })
    .group(['namespace', 'context', 'kubeconfig', 'cluster', 'user', 'as', 'request-timeout', 'v'], 'kubectl flags:')
    .check((args) => {
      checkGlobalFlags(args as GlobalFlags);
      return true;
    }) as Argv<T & GlobalFlags>;
}

/** The values kubectl would refuse, refused before any call as usage mistakes (exit 2). */
function checkGlobalFlags(flags: GlobalFlags): void {
  const timeout = flags['request-timeout'];
  if (timeout !== undefined && timeout !== '' && parseKubectlDuration(timeout) === undefined) {
    throw new UsageError(`--request-timeout must be a duration such as 30s, 2m or 1m30s, not ${timeout}`);
  }
  if (flags.v !== undefined && !(Number.isInteger(flags.v) && flags.v >= 0)) throw new UsageError('-v must be a log level (a whole number from 0)');
}

/** Target selection shared by pods, debug, exec, stack and doctor. */
export interface TargetFlags {
  target?: string;
  selector?: string;
  service?: string;
  container?: string;
}

export function withTargetFlags<T>(y: Argv<T>): Argv<T & TargetFlags> {
  return y
    .positional('target', { type: 'string', describe: 'svc/NAME, deploy/NAME, sts/NAME, rs/NAME, ds/NAME, job/NAME, pod/NAME or NAME' })
    .option('selector', { alias: 'l', type: 'string', describe: 'Label selector for the pods (instead of TARGET)' })
    .option('service', { alias: 's', type: 'string', describe: 'Service name (same as svc/NAME; kept for debugwand users)' })
    .option('container', { alias: 'c', type: 'string', describe: 'Container name (default: the pod\'s default container, else the one running Python)' }) as Argv<T & TargetFlags>;
}

/** The flags that choose a pod and process: shared by debug, exec, stack and doctor. */
export interface ChooseFlags extends GlobalFlags, TargetFlags {
  pod?: string;
  pid?: number;
}

export type OutputFormat = 'table' | 'wide' | 'json';

/** --pid of debug, exec, stack and doctor: throws a UsageError unless absent or a process ID. */
export function checkPid(pid: number | undefined): void {
  if (pid !== undefined && !(Number.isInteger(pid) && pid > 0)) throw new UsageError('--pid must be a process ID (a positive whole number)');
}

/** --timeout of debug and exec: throws a UsageError unless a positive number of seconds. */
export function checkTimeout(seconds: number): void {
  if (!(seconds > 0)) throw new UsageError('--timeout must be a positive number of seconds');
}
