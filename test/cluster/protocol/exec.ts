/**
 * pods/exec on the wire: WebSocket channels (v5/v4.channel.k8s.io) or SPDY/3.1 streams, mapped onto
 * ExecStreams for the runner, then the final Status the client turns into kubectl's exit code.
 * Returns null, having written nothing, when the request is no upgrade this speaks (the caller
 * answers it, e.g. 400 — kubectl then falls back from WebSocket to SPDY).
 */
import type { IncomingMessage } from 'node:http';
import { Readable, Writable, type Duplex } from 'node:stream';
import { finished } from 'node:stream/promises';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { ExecOutcome, ExecStreams } from '../runtime/types';
import type { ExecOptions, ExecRunner, ServeExec } from './api';
import { SpdySession, type SpdyStream } from './spdy';
import { acceptSpdyUpgrade, chooseProtocol, sessionOver, upgradeKind } from './upgrade';

const WEBSOCKET_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
// Kubelets speak v4 over SPDY; v5 adds nothing there (its CLOSE signal is SPDY's FIN).
const SPDY_PROTOCOLS = ['v4.channel.k8s.io', 'v5.channel.k8s.io'];

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const CLOSE = 255;

/** a transport's side of one exec: the streams, and how to deliver the final Status */
interface ExecChannels {
  streams: ExecStreams;
  finish(status: Buffer): void | Promise<void>;
}

export const serveExec: ServeExec = (req, socket, head, options, run) => {
  const kind = upgradeKind(req);
  const protocol = kind && chooseProtocol(req, kind === 'spdy' ? SPDY_PROTOCOLS : WEBSOCKET_PROTOCOLS);
  if (!protocol) return null;
  const session = sessionOver(socket);
  const abort = new AbortController();
  void session.done.then(() => abort.abort());
  const execute = (channels: ExecChannels): void => void runToCompletion(channels, run, abort.signal);
  if (kind === 'websocket') execOverWebSocket(req, socket, head, protocol, options, execute);
  else execOverSpdy(socket, head, protocol, options, execute);
  return session;
};

async function runToCompletion(channels: ExecChannels, run: ExecRunner, signal: AbortSignal): Promise<void> {
  const outcome = await run(channels.streams, signal).catch((error: unknown) => ({
    error: error instanceof Error ? error.message : String(error),
  }));
  await Promise.all([flushed(channels.streams.stdout), flushed(channels.streams.stderr)]);
  await channels.finish(statusFor(outcome));
}

/** ends the output if the runner did not, and waits until every byte has left */
async function flushed(output: Writable | null): Promise<void> {
  if (!output || output.writableFinished || output.destroyed) return;
  output.end();
  await finished(output, { readable: false }).catch(() => undefined);
}

/** the metav1.Status that client-go's v4 error decoder reads */
function statusFor(outcome: ExecOutcome): Buffer {
  let status: object;
  if ('error' in outcome) {
    status = { status: 'Failure', reason: 'InternalError', code: 500, message: outcome.error };
  } else if (outcome.exitCode === 0) {
    status = { status: 'Success' };
  } else {
    const code = String(outcome.exitCode);
    status = {
      status: 'Failure',
      reason: 'NonZeroExitCode',
      message: `command terminated with non-zero exit code: exit status ${code}`,
      details: { causes: [{ reason: 'ExitCode', message: code }] },
    };
  }
  return Buffer.from(JSON.stringify({ metadata: {}, ...status }));
}

function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}

function execOverWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  protocol: string,
  options: ExecOptions,
  execute: (channels: ExecChannels) => void,
): void {
  const server = new WebSocketServer({ noServer: true, handleProtocols: () => protocol });
  server.handleUpgrade(req, socket, head, (ws) => {
    ws.on('error', () => ws.terminate());
    execute({
      streams: {
        stdin: options.stdin ? webSocketInput(ws) : null,
        stdout: options.stdout ? channelWriter(ws, STDOUT) : discard(),
        stderr: options.tty ? null : options.stderr ? channelWriter(ws, STDERR) : discard(),
      },
      finish(status) {
        if (ws.readyState !== WebSocket.OPEN) return;
        ws.send(Buffer.concat([Buffer.of(STATUS), status]));
        ws.close(1000);
      },
    });
  });
}

/** channel-0 messages until the client's [255, 0] (or the connection's end) */
function webSocketInput(ws: WebSocket): Readable {
  const stdin = new Readable({ read: () => ws.resume() });
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    stdin.push(null);
  };
  ws.on('message', (data: RawData) => {
    const message = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (message[0] === STDIN && !ended && !stdin.push(message.subarray(1))) ws.pause();
    else if (message[0] === CLOSE && message[1] === STDIN) end();
  });
  ws.on('close', end);
  return stdin;
}

/** each write becomes one binary message prefixed by the channel; done once it reached the socket */
function channelWriter(ws: WebSocket, channel: number): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (ws.readyState !== WebSocket.OPEN) return done(); // client gone: output has nowhere to go
      ws.send(Buffer.concat([Buffer.of(channel), chunk]), () => done());
    },
  });
}

function execOverSpdy(
  socket: Duplex,
  head: Buffer,
  protocol: string,
  options: ExecOptions,
  execute: (channels: ExecChannels) => void,
): void {
  acceptSpdyUpgrade(socket, protocol);
  const spdy = new SpdySession(socket, head);
  const needed = ['error'];
  if (options.stdin) needed.push('stdin');
  if (options.stdout) needed.push('stdout');
  if (options.stderr && !options.tty) needed.push('stderr');
  const byType = new Map<string, SpdyStream>();
  let started = false;

  spdy.on('stream', (stream: SpdyStream) => {
    const type = stream.headers.streamtype ?? '';
    byType.set(type, stream);
    if (type !== 'stdin') stream.resume(); // e.g. resize: nobody reads it, it must not block the session
    if (started || !needed.every((wanted) => byType.has(wanted))) return;
    started = true;
    execute({
      streams: {
        stdin: byType.get('stdin') ?? null,
        stdout: byType.get('stdout') ?? discard(),
        stderr: options.tty ? null : byType.get('stderr') ?? discard(),
      },
      async finish(status) {
        const streams = [...byType.values()];
        byType.get('error')?.end(status);
        for (const each of streams) each.end();
        await Promise.all(streams.map((each) => finished(each, { readable: false }).catch(() => undefined)));
        spdy.close();
      },
    });
  });
}
