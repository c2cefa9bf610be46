/**
 * One `kubectl port-forward` child, ready once kubectl says it listens. Supervision (restarts,
 * moving to another pod) is built on top of `exited`.
 */
import type { ChildProcess } from 'child_process';
import { KUBECTL } from '../remedies';
import { KubeError, KubectlFailed, Timeout } from './errors';
import type { Kubectl, KubectlExit, KubectlProcess } from './kubectl';
import { forEachLine, LineTail } from './lines';

export interface PortForwardSpec {
  namespace: string;
  pod: string;
  /** 0: let kubectl pick a free port */
  localPort: number;
  remotePort: number;
}

export interface PortForwardOptions {
  /** how long kubectl may take to start listening (default 20 s) */
  timeoutMs?: number;
}

export interface PortForwardExit extends KubectlExit {
  /** true when stop() ended it */
  stopped: boolean;
  /** why it ended, when it ended on its own */
  error?: KubeError;
  /** kubectl's last stderr lines */
  stderrTail: string[];
}

export interface PortForward {
  localPort: number;
  remotePort: number;
  child: ChildProcess;
  /** ends the child; resolves once it has exited */
  stop(): Promise<void>;
  /** resolves when the child exits, for whatever reason; never rejects */
  exited: Promise<PortForwardExit>;
  /** kubectl's last stderr lines so far (e.g. `Handling connection` noise is on stdout, not here) */
  stderrTail(): string[];
}

export const PORT_FORWARD_TIMEOUT_MS = 20_000;
const STDERR_LINES_KEPT = 20;
const FORWARDING = /^Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/;

export function portForwardArgs(spec: PortForwardSpec): string[] {
  const ports = spec.localPort === 0 ? `:${spec.remotePort}` : `${spec.localPort}:${spec.remotePort}`;
  return ['port-forward', '--address', '127.0.0.1', '-n', spec.namespace, `pod/${spec.pod}`, ports];
}

export function startPortForward(
  kubectl: Kubectl,
  spec: PortForwardSpec,
  opts: PortForwardOptions = {},
): Promise<PortForward> {
  const timeoutMs = opts.timeoutMs ?? PORT_FORWARD_TIMEOUT_MS;
  const proc = kubectl.spawn(portForwardArgs(spec));
  const tail = new LineTail(STDERR_LINES_KEPT);
  let stopped = false;
  let onForwarding: ((port: number) => void) | undefined;

  const { stdout, stderr } = proc.child;
  const stdoutDone = stdout
    ? forEachLine(stdout, (line) => {
        const m = FORWARDING.exec(line);
        if (m) onForwarding?.(Number(m[1]));
      })
    : Promise.resolve();
  const stderrDone = stderr ? forEachLine(stderr, (line) => tail.push(line)) : Promise.resolve();

  const exited: Promise<PortForwardExit> = proc.exited.then(async (exit) => {
    await Promise.all([stdoutDone, stderrDone]);
    const ended: PortForwardExit = { ...exit, stopped, stderrTail: tail.get() };
    if (!stopped) ended.error = endError(kubectl, proc, exit, tail.text(), spec.pod);
    return ended;
  });

  const stop = async (): Promise<void> => {
    stopped = true;
    proc.kill('SIGTERM');
    await exited;
  };

  return new Promise<PortForward>((resolve, reject) => {
    const timer = setTimeout(() => {
      onForwarding = undefined;
      void stop();
      const call = { args: proc.args, exitCode: null, stderr: tail.text() };
      reject(new Timeout(timeoutMs, call, KUBECTL.portForwardNeverListened));
    }, timeoutMs);
    onForwarding = (localPort) => {
      onForwarding = undefined;
      clearTimeout(timer);
      resolve({
        localPort,
        remotePort: spec.remotePort,
        child: proc.child,
        stop,
        exited,
        stderrTail: () => tail.get(),
      });
    };
    void exited.then((ended) => {
      if (!onForwarding) return; // already ready (or timed out): exited is the caller's business
      onForwarding = undefined;
      clearTimeout(timer);
      reject(ended.error ?? new KubectlFailed('port-forward stopped before it listened', callOf(proc.args, ended)));
    });
  });
}

function endError(
  kubectl: Kubectl,
  proc: KubectlProcess,
  exit: KubectlExit,
  stderr: string,
  pod: string,
): KubeError {
  if (exit.exitCode === 0 && !exit.startError) {
    return new KubectlFailed('port-forward exited', { args: proc.args, exitCode: 0, stderr });
  }
  return kubectl.failure(proc, exit, stderr, { pod });
}

function callOf(args: readonly string[], ended: PortForwardExit) {
  return { args, exitCode: ended.exitCode, stderr: ended.stderrTail.join('\n') };
}
