/**
 * Signatures the API server calls for upgraded connections. Implemented in exec.ts and
 * portforward.ts of this folder; this file only fixes the shapes both sides code against.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ExecOutcome, ExecStreams } from '../runtime/types';

/** A live upgraded session; the API server keeps them to let tests cut connections. */
export interface StreamSession {
  /** resolves when the session has ended for any reason */
  readonly done: Promise<void>;
  /** tear the connection down abruptly (test hook: "drop") */
  destroy(): void;
}

export type ExecRunner = (streams: ExecStreams, signal: AbortSignal) => Promise<ExecOutcome>;
export type PortDialer = (port: number) => Promise<Duplex>;

export interface ExecOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** Accepts a WebSocket (v5/v4.channel.k8s.io) or SPDY/3.1 upgrade for pods/exec. */
export type ServeExec = (
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  options: ExecOptions,
  run: ExecRunner,
) => StreamSession | null;

/** Accepts a WebSocket-tunnelled or plain SPDY/3.1 upgrade for pods/portforward. */
export type ServePortForward = (
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  dial: PortDialer,
) => StreamSession | null;
