/**
 * `npm run cluster -- up --manifests <file-or-dir> --state <dir> [--ptrace-scope 0-3]`: start the test
 * cluster in the background and return once every pod is Running (kubeconfig at <state>/kubeconfig);
 * --ptrace-scope sets the node's kernel.yama.ptrace_scope (default 0, see runtime/security.ts).
 * `npm run cluster -- down --state <dir>`: stop it and everything it started.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parsePtraceScope, type PtraceScope } from './runtime/security';

interface Args {
  command: string;
  state: string;
  manifests: string[];
  ptraceScope: PtraceScope;
}

function parseArgs(argv: string[]): Args {
  const [command = '', ...rest] = argv;
  const manifests: string[] = [];
  let state = '';
  let ptraceScope: PtraceScope = 0;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--manifests') manifests.push(path.resolve(rest[++i] ?? ''));
    else if (rest[i] === '--state') state = path.resolve(rest[++i] ?? '');
    else if (rest[i] === '--ptrace-scope') ptraceScope = parsePtraceScope(rest[++i]);
    else throw new Error(`unknown argument ${rest[i]}`);
  }
  if (!['up', 'down'].includes(command) || !state) {
    throw new Error('usage: cluster up --manifests <file-or-dir> [--manifests …] --state <dir> [--ptrace-scope 0-3] | cluster down --state <dir>');
  }
  return { command, state, manifests, ptraceScope };
}

export const daemonFiles = (state: string) => ({
  pid: path.join(state, 'daemon.pid'),
  log: path.join(state, 'daemon.log'),
  ready: path.join(state, 'ready'),
  failed: path.join(state, 'failed'),
});

async function up(args: Args): Promise<void> {
  const files = daemonFiles(args.state);
  await fs.mkdir(args.state, { recursive: true });
  if (existsSync(files.pid)) throw new Error(`a cluster already runs with state ${args.state} (run down first)`);
  await Promise.all([files.ready, files.failed].map((f) => fs.rm(f, { force: true })));
  const log = openSync(files.log, 'a');
  const daemonArgs = [require.resolve('tsx/cli'), path.join(__dirname, 'daemon.ts'), args.state, String(args.ptraceScope), ...args.manifests];
  const child = spawn(process.execPath, daemonArgs, { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  await fs.writeFile(files.pid, String(child.pid));
  const started = Date.now();
  for (;;) {
    if (existsSync(files.ready)) break;
    if (existsSync(files.failed) || child.exitCode !== null) {
      await fs.rm(files.pid, { force: true });
      throw new Error(`the cluster did not start:\n${readFileSync(files.log, 'utf8').trim().split('\n').slice(-10).join('\n')}`);
    }
    await sleep(50);
  }
  process.stdout.write(`cluster up in ${((Date.now() - started) / 1000).toFixed(1)}s; export KUBECONFIG=${path.join(args.state, 'kubeconfig')}\n`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function down(args: Args): Promise<void> {
  const files = daemonFiles(args.state);
  if (!existsSync(files.pid)) {
    process.stdout.write('no cluster is running with this state\n');
    return;
  }
  const pid = Number(readFileSync(files.pid, 'utf8'));
  if (alive(pid)) process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 300 && alive(pid); i++) await sleep(50);
  if (alive(pid)) throw new Error(`the cluster daemon (pid ${pid}) did not stop; see ${files.log}`);
  await fs.rm(files.pid, { force: true });
  process.stdout.write('cluster down\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  await (args.command === 'up' ? up(args) : down(args));
}

main().catch((error: Error) => {
  process.stderr.write(`cluster: ${error.message}\n`);
  process.exit(1);
});
