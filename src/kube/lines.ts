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

/**
 * Splits a stream of concatenated JSON documents (`kubectl get -w -o json` prints one after the
 * other, indented or not) into the documents' texts, as they complete.
 */
export class JsonDocuments {
  private pending = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;
  private scanned = 0;

  push(chunk: string): string[] {
    this.pending += chunk;
    const done: string[] = [];
    for (let i = this.scanned; i < this.pending.length; i++) {
      const c = this.pending[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
      } else if (c === '"') {
        this.inString = true;
      } else if (c === '{' || c === '[') {
        if (this.depth++ === 0) this.start = i;
      } else if ((c === '}' || c === ']') && this.depth > 0 && --this.depth === 0) {
        done.push(this.pending.slice(this.start, i + 1));
        this.pending = this.pending.slice(i + 1);
        i = -1;
      }
    }
    this.scanned = this.pending.length;
    if (this.depth === 0) {
      this.pending = '';
      this.scanned = 0;
    }
    return done;
  }
}
