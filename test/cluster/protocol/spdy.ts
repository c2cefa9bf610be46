/**
 * The server side of a SPDY/3.1 session as spoken by Go's moby/spdystream (client-go's SPDY
 * transport): framing, header compression, and peer-opened streams as Node Duplexes.
 * No flow control: spdystream never sends WINDOW_UPDATE, so honouring windows would stall.
 */
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { Deflate, Inflate, constants as zlib } from 'pako';

const SYN_STREAM = 1;
const SYN_REPLY = 2;
const RST_STREAM = 3;
const PING = 6;
const GOAWAY = 7;
const HEADERS = 8;
const FLAG_FIN = 0x01;
const RST_CANCEL = 5;
const MAX_DATA_FRAME = 32 * 1024;

/** The SPDY/3 header-compression dictionary (spec section 2.6.10.1), 1423 bytes. */
const DICTIONARY = Buffer.concat([
  ...[
    'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset',
    'accept-encoding', 'accept-language', 'accept-ranges', 'age', 'allow', 'authorization',
    'cache-control', 'connection', 'content-base', 'content-encoding', 'content-language',
    'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date',
    'etag', 'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match',
    'if-range', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'pragma',
    'proxy-authenticate', 'proxy-authorization', 'range', 'referer', 'retry-after', 'server', 'te',
    'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning',
    'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public',
    'set-cookie', 'keep-alive', 'origin',
  ].map((word) => Buffer.concat([u32(word.length), Buffer.from(word)])),
  Buffer.from(
    '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
      '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request' +
      '401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented' +
      '503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 ' +
      'Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,' +
      'application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=' +
      'gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.',
  ),
]);

export type SpdyHeaders = Record<string, string>;

/** malformed input from the peer; it ends the session */
class ProtocolError extends Error {}

function u32(value: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeUInt32BE(value >>> 0);
  return buf;
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  return Buffer.concat([u32((0x8003 << 16) | type), u32((flags << 24) | payload.length), payload]);
}

function dataFrame(streamId: number, flags: number, payload: Buffer): Buffer {
  return Buffer.concat([u32(streamId & 0x7fffffff), u32((flags << 24) | payload.length), payload]);
}

function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const entries = Object.entries(headers);
  const parts = [u32(entries.length)];
  for (const [name, value] of entries) {
    const n = Buffer.from(name.toLowerCase());
    const v = Buffer.from(value);
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

/** Multiple values of one name arrive NUL-separated; they are kept that way. */
function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  const headers: SpdyHeaders = {};
  let at = 4;
  const read = (): string => {
    const length = block.readUInt32BE(at);
    const text = block.subarray(at + 4, at + 4 + length).toString();
    at += 4 + length;
    return text;
  };
  for (let count = block.readUInt32BE(0); count > 0; count--) {
    const name = read();
    headers[name] = read();
  }
  return headers;
}

/** One zlib context per direction for the whole connection, sync-flushed after every block. */
class HeaderCodec {
  private readonly deflater = new Deflate({ level: 9, dictionary: DICTIONARY });
  private readonly inflater = new Inflate({ dictionary: DICTIONARY });

  compress(headers: SpdyHeaders): Buffer {
    return this.run(this.deflater, encodeHeaderBlock(headers));
  }

  decompress(block: Buffer): SpdyHeaders {
    try {
      return decodeHeaderBlock(this.run(this.inflater, block));
    } catch (error) {
      throw new ProtocolError(error instanceof Error ? error.message : String(error));
    }
  }

  private run(codec: Deflate | Inflate, input: Buffer): Buffer {
    const out: Buffer[] = [];
    codec.onData = (chunk) => out.push(Buffer.from(chunk as Uint8Array));
    if (!codec.push(input, zlib.Z_SYNC_FLUSH) || codec.err) {
      throw new Error(`spdy header block: ${codec.msg || 'zlib error'}`);
    }
    return Buffer.concat(out);
  }
}

/** A peer-opened stream: readable side = peer's data until its FIN; end() sends our FIN. */
export class SpdyStream extends Duplex {
  finReceived = false;
  finSent = false;
  resetByPeer = false;

  constructor(
    readonly id: number,
    readonly headers: SpdyHeaders,
    private readonly session: SpdySession,
  ) {
    super({ allowHalfOpen: true });
  }

  override _read(): void {
    this.session.relieve(this);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.session.sendData(this.id, chunk, false, () => done());
  }

  override _final(done: (error?: Error | null) => void): void {
    this.session.sendData(this.id, Buffer.alloc(0), true, () => {
      this.finSent = true;
      this.session.forgetIfFinished(this);
      done();
    });
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.session.discard(this);
    done(error);
  }
}

/** Frames in and out of one transport; emits 'stream' (SpdyStream) and 'close'. */
export class SpdySession extends EventEmitter {
  private readonly codec = new HeaderCodec();
  private readonly streams = new Map<number, SpdyStream>();
  /** streams whose reader is behind: the transport stays paused until all catch up */
  private readonly congested = new Set<SpdyStream>();
  private readonly drainWaiters: Array<() => void> = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private closed = false;
  private lastStreamId = 0;

  constructor(private readonly transport: Duplex, head: Buffer = Buffer.alloc(0)) {
    super();
    transport.on('data', (chunk: Buffer) => this.receive(chunk));
    transport.on('drain', () => this.releaseWriters());
    // The peer never half-closes on purpose: its end means the session is over.
    transport.on('end', () => transport.destroy());
    transport.on('error', () => transport.destroy());
    transport.on('close', () => this.shutDown());
    if (head.length > 0) this.receive(head);
  }

  /** GOAWAY, then the end of the transport once queued frames are written */
  close(): void {
    this.send(controlFrame(GOAWAY, 0, Buffer.concat([u32(this.lastStreamId), u32(0)])));
    if (!this.transport.writableEnded) this.transport.end();
  }

  destroy(): void {
    this.transport.destroy();
  }

  // sendData, relieve, forgetIfFinished and discard are SpdyStream's way back into its session.

  sendData(streamId: number, data: Buffer, fin: boolean, written: () => void): void {
    if (data.length === 0) return this.send(dataFrame(streamId, fin ? FLAG_FIN : 0, data), written);
    for (let at = 0; at < data.length; at += MAX_DATA_FRAME) {
      const last = at + MAX_DATA_FRAME >= data.length;
      const flags = fin && last ? FLAG_FIN : 0;
      this.send(dataFrame(streamId, flags, data.subarray(at, at + MAX_DATA_FRAME)), last ? written : undefined);
    }
  }

  relieve(stream: SpdyStream): void {
    if (this.congested.delete(stream) && this.congested.size === 0 && !this.closed) this.transport.resume();
  }

  forgetIfFinished(stream: SpdyStream): void {
    if (stream.finSent && stream.finReceived) this.streams.delete(stream.id);
  }

  discard(stream: SpdyStream): void {
    const open = this.streams.get(stream.id) === stream;
    this.streams.delete(stream.id);
    this.relieve(stream);
    if (open && !stream.resetByPeer) this.send(controlFrame(RST_STREAM, 0, Buffer.concat([u32(stream.id), u32(RST_CANCEL)])));
  }

  private send(frame: Buffer, written?: () => void): void {
    if (this.closed || this.transport.writableEnded) return written?.();
    if (this.transport.write(frame) || !written) written?.();
    else this.drainWaiters.push(written);
  }

  private releaseWriters(): void {
    for (const written of this.drainWaiters.splice(0)) written();
  }

  private receive(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    try {
      for (let frame = this.nextFrame(); frame && !this.closed; frame = this.nextFrame()) this.dispatch(frame);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.transport.destroy();
    }
  }

  private nextFrame(): Buffer | null {
    if (this.pendingBytes < 8) return null;
    if (this.pending[0].length < 8) this.pending = [Buffer.concat(this.pending)];
    const size = 8 + (this.pending[0].readUInt32BE(4) & 0xffffff);
    if (this.pendingBytes < size) return null;
    if (this.pending[0].length < size) this.pending = [Buffer.concat(this.pending)];
    const frame = this.pending[0].subarray(0, size);
    this.pending[0] = this.pending[0].subarray(size);
    if (this.pending[0].length === 0) this.pending.shift();
    this.pendingBytes -= size;
    return frame;
  }

  private dispatch(frame: Buffer): void {
    const flags = frame[4];
    const body = frame.subarray(8);
    if (frame[0] & 0x80) this.onControl(frame.readUInt16BE(2), flags, body, frame);
    else this.onData(frame.readUInt32BE(0) & 0x7fffffff, flags, body);
  }

  private onControl(type: number, flags: number, body: Buffer, frame: Buffer): void {
    const streamId = body.length >= 4 ? body.readUInt32BE(0) & 0x7fffffff : 0;
    switch (type) {
      case SYN_STREAM:
        return this.openStream(streamId, this.codec.decompress(body.subarray(10)), flags);
      case SYN_REPLY:
      case HEADERS:
        this.codec.decompress(body.subarray(4)); // keeps the shared zlib context in step
        return;
      case RST_STREAM:
        return this.resetStream(streamId);
      case PING:
        return this.send(frame);
      default:
        return; // SETTINGS, WINDOW_UPDATE, GOAWAY: nothing to do without flow control
    }
  }

  private openStream(id: number, headers: SpdyHeaders, flags: number): void {
    const stream = new SpdyStream(id, headers, this);
    this.lastStreamId = Math.max(this.lastStreamId, id);
    stream.on('error', () => stream.destroy()); // a failed stream must not take the process down
    this.streams.set(id, stream);
    this.send(controlFrame(SYN_REPLY, 0, Buffer.concat([u32(id), this.codec.compress({})])));
    this.emit('stream', stream);
    if (flags & FLAG_FIN) this.onData(id, FLAG_FIN, Buffer.alloc(0));
  }

  private onData(streamId: number, flags: number, data: Buffer): void {
    const stream = this.streams.get(streamId);
    if (!stream || stream.finReceived) return;
    if (data.length > 0 && !stream.push(data)) {
      this.congested.add(stream);
      this.transport.pause();
    }
    if (flags & FLAG_FIN) {
      stream.finReceived = true;
      stream.push(null);
      this.forgetIfFinished(stream);
    }
  }

  private resetStream(streamId: number): void {
    const stream = this.streams.get(streamId);
    if (!stream) return;
    stream.resetByPeer = true;
    stream.destroy();
  }

  private shutDown(): void {
    if (this.closed) return;
    this.closed = true;
    this.releaseWriters();
    for (const stream of this.streams.values()) {
      stream.resetByPeer = true;
      stream.destroy();
    }
    this.streams.clear();
    this.emit('close');
  }
}
