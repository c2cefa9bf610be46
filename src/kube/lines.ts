/** Reading a child's pipes as text, without buffering them whole. */

/** Calls onChunk for every chunk; resolves when the stream ends, closes or fails. */
export function collect(stream: NodeJS.ReadableStream, onChunk: (chunk: string) => void): Promise<void> {
  stream.setEncoding('utf8');
  return new Promise((resolve) => {
    stream.on('data', (chunk: string) => onChunk(chunk));
    stream.on('end', () => resolve());
    stream.on('close', () => resolve());
    stream.on('error', () => resolve());
  });
}

/** Calls onLine for every line (without its newline) as it arrives, the unterminated last one included. */
export function forEachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): Promise<void> {
  let pending = '';
  return collect(stream, (chunk) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      onLine(pending.slice(0, newline).replace(/\r$/, ''));
      pending = pending.slice(newline + 1);
    }
  }).then(() => {
    if (pending) onLine(pending);
    pending = '';
  });
}

/** The last `size` lines seen. */
export class LineTail {
  private readonly lines: string[] = [];
  constructor(private readonly size: number) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.size) this.lines.shift();
  }

  get(): string[] {
    return [...this.lines];
  }

  text(): string {
    return this.lines.map((line) => `${line}\n`).join('');
  }
}
