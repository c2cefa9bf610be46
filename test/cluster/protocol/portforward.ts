/**
 * pods/portforward on the wire: a SPDY/3.1 session, either over a plain SPDY upgrade or tunnelled
 * in a WebSocket (`SPDY/3.1+portforward.k8s.io`, each binary message a slice of the SPDY byte
 * stream). Every local connection is a pair of streams (error, data) sharing a requestid.
 * Returns null, having written nothing, when the request is no upgrade this speaks.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { PortDialer, ServePortForward } from './api';
import { SpdySession, type SpdyStream } from './spdy';
import { acceptSpdyUpgrade, chooseProtocol, sessionOver, upgradeKind } from './upgrade';

const SPDY_PROTOCOL = 'portforward.k8s.io';
const TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

interface StreamPair {
  error?: SpdyStream;
  data?: SpdyStream;
}

export const servePortForward: ServePortForward = (req, socket, head, dial) => {
  const kind = upgradeKind(req);
  const protocol = kind === 'spdy' ? SPDY_PROTOCOL : TUNNEL_PROTOCOL;
  if (!kind || !chooseProtocol(req, [protocol])) return null;
  const session = sessionOver(socket);
  const pod = podNameOf(req);
  const serve = (spdy: SpdySession): void => forwardStreams(spdy, dial, pod);
  if (kind === 'spdy') {
    acceptSpdyUpgrade(socket, protocol);
    serve(new SpdySession(socket, head));
  } else {
    tunnel(req, socket, head, serve);
  }
  return session;
};

function podNameOf(req: IncomingMessage): string {
  return /\/pods\/([^/?]+)\/portforward/.exec(req.url ?? '')?.[1] ?? '';
}

/** `ws` refuses a subprotocol containing '/', so it negotiates none and we echo the tunnel's */
function tunnel(req: IncomingMessage, socket: Duplex, head: Buffer, serve: (spdy: SpdySession) => void): void {
  delete req.headers['sec-websocket-protocol'];
  const server = new WebSocketServer({ noServer: true });
  server.on('headers', (headers: string[]) => headers.push(`Sec-WebSocket-Protocol: ${TUNNEL_PROTOCOL}`));
  server.handleUpgrade(req, socket, head, (ws) => serve(new SpdySession(createWebSocketStream(ws))));
}

function forwardStreams(spdy: SpdySession, dial: PortDialer, pod: string): void {
  const pairs = new Map<string, StreamPair>();
  spdy.on('stream', (stream: SpdyStream) => {
    const { streamtype: type, requestid: id, port } = stream.headers;
    if ((type !== 'error' && type !== 'data') || id === undefined) return void stream.destroy();
    const pair = pairs.get(id) ?? {};
    pair[type] = stream;
    pairs.set(id, pair);
    if (!pair.error || !pair.data) return;
    pairs.delete(id);
    void forward(pair.error, pair.data, Number(port), dial, pod);
  });
}

async function forward(error: SpdyStream, data: SpdyStream, port: number, dial: PortDialer, pod: string): Promise<void> {
  let target: Duplex;
  try {
    target = await dial(port);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    // Kubelet's wording; the client reports it and tears the whole session down.
    error.end(`error forwarding port ${port} to pod ${pod}, uid : ${reason}`);
    data.end();
    return;
  }
  if (data.destroyed) return void target.destroy();
  target.on('error', () => target.destroy());
  data.pipe(target); // the client's FIN half-closes the target
  target.pipe(data); // the target's end becomes our FIN
  target.on('close', () => {
    data.unpipe(target);
    data.resume(); // late bytes from the client are dropped rather than stalling the session
    data.end();
    error.end();
  });
  data.on('close', () => target.destroy());
}
