/**
 * HTTP upgrade plumbing shared by exec and port-forward: which transport the client asked for,
 * which subprotocols it offers, the SPDY 101 reply, and the StreamSession over the raw socket.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { StreamSession } from './api';

export type UpgradeKind = 'websocket' | 'spdy';

export function upgradeKind(req: IncomingMessage): UpgradeKind | null {
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  if (upgrade === 'websocket') return 'websocket';
  if (upgrade === 'spdy/3.1') return 'spdy';
  return null;
}

/** every value of a header that may be repeated or comma-joined, in the client's order */
function headerValues(req: IncomingMessage, name: string): string[] {
  return (req.headersDistinct[name] ?? [])
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter(Boolean);
}

/** the first protocol in our preference order that the client offers */
export function chooseProtocol(req: IncomingMessage, supported: readonly string[]): string | null {
  const header = upgradeKind(req) === 'spdy' ? 'x-stream-protocol-version' : 'sec-websocket-protocol';
  const offered = headerValues(req, header);
  return supported.find((protocol) => offered.includes(protocol)) ?? null;
}

export function acceptSpdyUpgrade(socket: Duplex, protocol: string): void {
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Connection: Upgrade\r\n' +
      'Upgrade: SPDY/3.1\r\n' +
      `X-Stream-Protocol-Version: ${protocol}\r\n\r\n`,
  );
}

/** done resolves when the socket closes; destroy() cuts it without any goodbye */
export function sessionOver(socket: Duplex): StreamSession {
  const done = new Promise<void>((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });
  return { done, destroy: () => socket.destroy() };
}
