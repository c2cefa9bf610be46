/** pods/log: the tail of the container's log file, optionally followed while the container runs. */
import { open, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { containerStatus } from './containers';
import type { Pod } from './objects';
import { badRequest } from './status';

export interface LogRequest {
  path: string;
  tailLines?: number;
  limitBytes?: number;
  follow: boolean;
  /** the pod as it is now (undefined once deleted): following stops when the container stops */
  current(): Pod | undefined;
  container: string;
}

const FOLLOW_POLL_MS = 200;

/** Refuses a container that never started, as the kubelet does. */
export function assertHasLogs(pod: Pod, container: string): void {
  const status = containerStatus(pod, container);
  const waiting = status?.state.waiting;
  if (!status || (waiting && status.restartCount === 0 && !status.lastState?.terminated)) {
    const reason = waiting?.reason ?? 'ContainerCreating';
    throw badRequest(`container "${container}" in pod "${pod.metadata.name}" is waiting to start: ${reason}`);
  }
}

async function readText(path: string): Promise<Buffer> {
  return readFile(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return Buffer.alloc(0);
    throw error;
  });
}

function tail(content: Buffer, lines: number | undefined): Buffer {
  if (lines === undefined) return content;
  if (lines <= 0) return Buffer.alloc(0);
  let end = content.length;
  if (content[end - 1] === 0x0a) end--;
  let start = end;
  for (let seen = 0; start > 0; start--) {
    if (content[start - 1] === 0x0a && ++seen === lines) break;
  }
  return content.subarray(start);
}

async function readFrom(path: string, offset: number): Promise<Buffer> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return Buffer.alloc(0);
  try {
    const { size } = await handle.stat();
    if (size <= offset) return Buffer.alloc(0);
    const chunk = Buffer.alloc(size - offset);
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, offset);
    return chunk.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function stillRunning(request: LogRequest): boolean {
  const pod = request.current();
  return !!pod && !!containerStatus(pod, request.container)?.state.running;
}

export async function serveLogs(req: IncomingMessage, res: ServerResponse, request: LogRequest): Promise<void> {
  const content = await readText(request.path);
  let offset = content.length;
  let body = tail(content, request.tailLines);
  if (request.limitBytes !== undefined) body = body.subarray(0, request.limitBytes);
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  if (!request.follow) {
    res.end(body);
    return;
  }
  res.write(body);
  let closed = false;
  req.on('close', () => (closed = true));
  while (!closed) {
    const running = stillRunning(request);
    const more = await readFrom(request.path, offset);
    offset += more.length;
    if (more.length > 0) res.write(more);
    if (!running) break;
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
  }
  res.end();
}
