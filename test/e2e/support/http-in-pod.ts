/**
 * HTTP requests made from inside a pod: the test apps bind 127.0.0.1, so only a process in the
 * pod's network namespace reaches them. Uses the container's own python3 (every test image has
 * one; no curl needed) through `kubectl exec`, passing everything as argv — no shell.
 */
import { execFile } from 'node:child_process';

/** prints the response body, or one line of error and exits 1; argv: URL, timeout in seconds */
export const URLOPEN_PY = [
  'import sys, urllib.request',
  'try:',
  '    sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2])).read().decode())',
  'except Exception as e:',
  '    sys.exit(f"{type(e).__name__}: {e}")',
].join('\n');

export interface InPodRequestOptions {
  /** how long the request may take, e.g. while the handler sits on a breakpoint (default 60 s) */
  timeoutMs?: number;
  /** kubectl executable (default $KUBECTL or `kubectl`) */
  kubectl?: string;
}

/** argv for `python3 -c URLOPEN_PY URL TIMEOUT`, for runners other than kubectl exec */
export function urlopenArgv(url: string, timeoutMs: number): string[] {
  return ['python3', '-c', URLOPEN_PY, url, String(timeoutMs / 1000)];
}

/**
 * GET `url` from inside `pod`/`container`; resolves with the body, rejects with kubectl's or
 * Python's stderr. `kubectlArgs` go before `exec`, e.g. ['--context', 'kind-wand', '-n', 'wand-flask'].
 */
export function httpGetInPod(
  kubectlArgs: readonly string[],
  pod: string,
  container: string,
  url: string,
  options: InPodRequestOptions = {},
): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const kubectl = options.kubectl ?? process.env.KUBECTL ?? 'kubectl';
  const args = [...kubectlArgs, 'exec', pod, '-c', container, '--', ...urlopenArgv(url, timeoutMs)];
  return new Promise((resolve, reject) => {
    // kubectl gets a little longer than Python's own timeout so Python's error is the one reported
    execFile(kubectl, args, { timeout: timeoutMs + 15_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`GET ${url} in ${pod}/${container} failed: ${stderr.trim() || error.message}`));
      } else {
        resolve(stdout);
      }
    });
  });
}

/**
 * With several workers a request may land on one that no debugger holds: sends `request()` again
 * until one is not answered within `quickMs` (held at a breakpoint) and returns that pending one.
 */
export async function untilHeld(request: () => Promise<string>, quickMs = 3000, attempts = 20): Promise<string> {
  for (let i = 0; i < attempts; i++) {
    const pending = request();
    const answered = await Promise.race([pending.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), quickMs))]);
    if (!answered) return pending;
  }
  throw new Error('no request stopped on the breakpoint');
}
