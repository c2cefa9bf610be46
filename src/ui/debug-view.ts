/**
 * What `kubectl wand debug` says: human text on stderr (a live status while waiting, one clear
 * block when ready), or one JSON event per line on stdout with -o json.
 */
import type { ReadyDetails } from '../session/debug-session';
import type { DebugRunEvent } from '../session/debug';
import { color } from './colors';
import { launchSnippetFor } from './editor-config';

export type ViewEvent =
  | DebugRunEvent
  | { event: 'vscode-written'; file: string }
  | { event: 'stopped' };

interface RendererOptions {
  json: boolean;
  out: NodeJS.WritableStream;
  err: NodeJS.WriteStream | NodeJS.WritableStream;
}

/** The `-o json` shape of ready / reinjected / reconnected (documented in the README). */
export function readyJson(event: 'ready' | 'reinjected' | 'reconnected', d: ReadyDetails): Record<string, unknown> {
  return {
    event,
    namespace: d.namespace,
    pod: d.pod,
    container: d.container,
    targets: d.targets.map((t) => ({ pid: t.pid, localPort: t.localPort, remotePort: t.remotePort, reused: t.reused })),
    remoteRoot: d.remoteRoot,
    debugpyVersion: d.injected[0]?.debugpyVersion ?? null,
    injector: d.injected[0]?.injector ?? null,
  };
}

function jsonOf(e: ViewEvent): Record<string, unknown> | null {
  switch (e.event) {
    case 'ready':
    case 'reinjected':
    case 'reconnected':
      return readyJson(e.event, e);
    case 'error':
      return { event: 'error', message: e.error.message, remedy: 'remedy' in e.error ? e.error.remedy : null, fatal: e.fatal };
    case 'chosen':
      return { event: 'chosen', pod: e.pod, container: e.container, pids: e.pids, reason: e.reason };
    case 'waiting':
      return { event: 'waiting', pid: e.pid, seconds: e.seconds, blockedIn: e.blockedIn };
    case 'forward-restored':
      return { event: 'forward-restored', localPort: e.localPort };
    case 'pod-lost':
      return { event: 'pod-lost', pod: e.pod, reason: e.reason };
    case 'stopped':
      return { event: 'stopped' };
    default:
      return null;
  }
}

function attachLines(d: ReadyDetails): string[] {
  return d.targets.map((t) => {
    const local = t.localPort === null ? '(not forwarded: --no-forward)' : color.bold(`127.0.0.1:${t.localPort}`);
    const reuse = t.reused ? ' (debugpy was already listening: reused)' : '';
    return `  PID ${t.pid}: attach to ${local}  →  127.0.0.1:${t.remotePort} in the pod${reuse}`;
  });
}

function readyBlock(title: string, d: ReadyDetails): string {
  const forwarded = d.targets.filter((t) => t.localPort !== null);
  const lines = [`${color.green('✔')} ${title}`, ...attachLines(d)];
  const version = d.injected[0]?.debugpyVersion;
  if (version) lines.push(`  debugpy ${version}, code in ${d.remoteRoot}`);
  if (forwarded.length > 0) {
    const snippet = launchSnippetFor(d);
    lines.push('  VS Code launch.json configuration (or rerun with --vscode to write it):');
    const body = JSON.stringify(snippet.compounds.length > 0 ? snippet : snippet.configurations[0], null, 2);
    lines.push(...body.split('\n').map((l) => `    ${l}`));
  }
  return `${lines.join('\n')}\n`;
}

export function createDebugRenderer(opts: RendererOptions): (event: ViewEvent) => void {
  const tty = Boolean((opts.err as NodeJS.WriteStream).isTTY);
  let lastReady: ReadyDetails | undefined;
  let statusShown = false;
  let lastWaitingPrinted = -Infinity;
  const say = (text: string) => {
    if (statusShown && tty) opts.err.write('\r\x1b[2K');
    statusShown = false;
    opts.err.write(text.endsWith('\n') ? text : `${text}\n`);
  };

  const human = (e: ViewEvent) => {
    switch (e.event) {
      case 'pod-chosen':
        say(`${color.dim('→')} ${e.reason}`);
        return;
      case 'chosen':
        say(`${color.dim('→')} container ${e.container}: ${e.reason}`);
        return;
      case 'waiting': {
        const why = e.blockedIn ? `idle in ${e.blockedIn}; a request will wake it` : 'busy';
        const text = `waiting for PID ${e.pid} to run Python code — ${why} (${e.seconds.toFixed(0)} s)`;
        if (tty) {
          opts.err.write(`\r\x1b[2K${color.yellow('…')} ${text}`);
          statusShown = true;
        } else if (e.seconds - lastWaitingPrinted >= 5) {
          lastWaitingPrinted = e.seconds;
          say(`… ${text}`);
        }
        return;
      }
      case 'uploading':
        say(`${color.dim('→')} the image has no debugpy: copying ${e.origin} (${Math.round(e.bytes / 1024)} KiB)`);
        return;
      case 'ready':
        lastReady = e;
        say(readyBlock(`Ready: debugpy is listening in pod ${e.pod} (verified)`, e));
        say(color.dim('Following the app (reloads are re-injected, a replaced pod is followed). Ctrl-C to stop.'));
        return;
      case 'reinjected':
        lastReady = e;
        say(`${color.green('↻')} the app reloaded: injected PID ${e.targets.map((t) => t.pid).join(', ')} (same ports, reattach your editor)`);
        return;
      case 'reconnected':
        lastReady = e;
        say(readyBlock(`Reconnected: now pod ${e.pod}`, e));
        return;
      case 'forward-restored':
        say(`${color.green('↻')} port-forward restored on 127.0.0.1:${e.localPort} (${e.cause})`);
        return;
      case 'pod-lost':
        say(`${color.yellow('!')} pod ${e.pod} is gone (${e.reason}): waiting for its replacement`);
        return;
      case 'vscode-written':
        say(`${color.dim('→')} wrote ${e.file}`);
        return;
      case 'error':
        if (!e.fatal) say(`${color.yellow('warning:')} ${e.error.message}`);
        return;
      case 'stopped': {
        const listening = lastReady?.targets.map((t) => `127.0.0.1:${t.remotePort} in PID ${t.pid}`).join(', ');
        say(listening
          ? `Stopped. debugpy keeps listening on ${listening} inside pod ${lastReady?.pod} until the process exits; rerun kubectl wand debug to attach again.`
          : 'Stopped.');
        return;
      }
    }
  };

  return (event) => {
    if (!opts.json) return human(event);
    const doc = jsonOf(event);
    if (doc) opts.out.write(`${JSON.stringify(doc)}\n`);
    // stderr stays human in JSON mode: what was chosen, and the parting note.
    if (['chosen', 'pod-chosen', 'stopped'].includes(event.event)) human(event);
    if (event.event === 'ready' || event.event === 'reinjected' || event.event === 'reconnected') lastReady = event;
  };
}

