/**
 * The stdio of a container that can be attached to (kubectl attach, kubectl debug -i): its stdin
 * stays a pipe held open by the runtime, its output goes to the log file and to every attached
 * client. As containerd's CRI plugin does it (internal/cri/io/container_io.go Attach): an attach
 * ends when the container's output closes (it exited) or the client goes away; the client's stdin
 * EOF closes the container's stdin only for stdinOnce containers; what was written before the
 * attach is not replayed (that is what logs are for).
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import type { ExecOutcome, ExecStreams } from './types';

interface Listener {
  stdout: Writable;
  stderr: Writable;
}

export class AttachableStdio {
  /** resolves once stdout and stderr of the container have closed */
  readonly closed: Promise<void>;
  private readonly listeners = new Set<Listener>();

  constructor(private readonly proc: ChildProcess, logPath: string, private readonly stdinOnce: boolean) {
    const log = fs.openSync(logPath, 'a');
    const forward = (stream: Readable | null, pick: (l: Listener) => Writable): Promise<void> =>
      new Promise((resolve) => {
        if (!stream) return resolve();
        stream.on('data', (chunk: Buffer) => {
          fs.writeSync(log, chunk);
          for (const listener of this.listeners) pick(listener).write(chunk);
        });
        stream.once('close', () => resolve());
      });
    this.closed = Promise.all([forward(proc.stdout, (l) => l.stdout), forward(proc.stderr, (l) => l.stderr)]).then(() => fs.closeSync(log));
    proc.stdin?.on('error', () => {}); // EPIPE once the container's process is gone
  }

  async attach(streams: ExecStreams, signal: AbortSignal): Promise<ExecOutcome> {
    const listener: Listener = { stdout: streams.stdout, stderr: streams.stderr ?? streams.stdout };
    const containerStdin = this.proc.stdin;
    const onData = (chunk: Buffer): void => void containerStdin?.write(chunk);
    const onEnd = (): void => {
      if (this.stdinOnce) containerStdin?.end();
    };
    if (streams.stdin && containerStdin) {
      streams.stdin.on('data', onData);
      streams.stdin.once('end', onEnd);
    }
    this.listeners.add(listener);
    try {
      await Promise.race([this.closed, new Promise((resolve) => (signal.aborted ? resolve(undefined) : signal.addEventListener('abort', resolve, { once: true })))]);
      return { exitCode: 0 };
    } finally {
      this.listeners.delete(listener);
      streams.stdin?.off('data', onData);
      streams.stdin?.off('end', onEnd);
    }
  }
}
