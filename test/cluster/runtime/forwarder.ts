/**
 * The pod's port forwarder: a Node script in the pod's network namespace that connects a Unix
 * socket in the pod's state directory to 127.0.0.1:<port> inside the pod.
 *
 * Protocol per connection: client sends "<port>\n"; the forwarder answers "OK\n" and pipes both
 * ways (half-closes included), or "ERR <errno code>\n" and closes.
 */
import * as net from 'node:net';
import type { Duplex } from 'node:stream';

/** saved as forwarder.js and run as `node forwarder.js <socket>` */
export const FORWARDER_SOURCE = String.raw`
const net = require('net');
process.stdin.on('end', () => process.exit(0)).resume();
function forward(client) {
  let head = Buffer.alloc(0);
  client.on('error', () => {});
  client.on('data', function onHead(chunk) {
    head = Buffer.concat([head, chunk]);
    const nl = head.indexOf(10);
    if (nl < 0) return;
    client.off('data', onHead).pause();
    const upstream = net.connect({ host: '127.0.0.1', port: Number(head.subarray(0, nl)), allowHalfOpen: true });
    upstream.once('error', (e) => client.end('ERR ' + (e.code || e.message) + '\n'));
    upstream.once('connect', () => {
      upstream.removeAllListeners('error').on('error', () => client.destroy());
      client.on('error', () => upstream.destroy()).on('close', () => upstream.destroy());
      client.write('OK\n');
      upstream.write(head.subarray(nl + 1));
      client.pipe(upstream);
      upstream.pipe(client);
    });
  });
}
net.createServer({ allowHalfOpen: true }, forward).listen(process.argv[2], () => process.stdout.write('ready\n'));
`;

const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'no route to host',
};

/** connects to 127.0.0.1:port inside the pod through the forwarder listening on `socketPath` */
export function dialThroughForwarder(socketPath: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ path: socketPath, allowHalfOpen: true });
    let head = Buffer.alloc(0);
    const fail = (message: string): void => {
      sock.destroy();
      reject(new Error(`dial tcp 127.0.0.1:${port}: connect: ${message}`));
    };
    // 'readable' rather than 'data': leaves the socket in its initial mode for the caller's listeners
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = sock.read() as Buffer | null)) head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(10);
      if (nl < 0) return;
      sock.off('readable', onReadable).off('error', onError).off('end', onEnd);
      const status = head.subarray(0, nl).toString();
      if (status !== 'OK') return fail(ERRNO_TEXT[status.slice(4)] ?? status.slice(4));
      if (head.length > nl + 1) sock.unshift(head.subarray(nl + 1));
      resolve(sock);
    };
    const onError = (err: Error): void => fail(`pod port forwarder unreachable (${err.message})`);
    const onEnd = (): void => fail('pod port forwarder closed the connection');
    sock.on('readable', onReadable).on('error', onError).on('end', onEnd);
    sock.write(`${port}\n`);
  });
}
