/**
 * What `kubectl wand debug` says: human text on stderr (a live status while waiting, one clear
 * block when ready), or one JSON event per line on stdout with -o json.
 */
import type { ClosedTarget, ReadyDetails } from '../session/debug-session';
import type { DebugRunEvent } from '../session/debug';
import { color } from './colors';
import type { PodClosedTarget } from '../session/all-pods';
import { launchSnippetFor, launchSnippetForPods, type LaunchSnippet } from './editor-config';

export type ViewEvent =
  | DebugRunEvent
  | { event: 'vscode-written'; file: string }
  /** closed: what ending the session did in each injected process (absent: it never got that far) */
  | { event: 'stopped'; closed?: Array<ClosedTarget | PodClosedTarget> };

interface RendererOptions {
  json: boolean;
  out: NodeJS.WritableStream;
  err: NodeJS.WriteStream | NodeJS.WritableStream;
}

function targetsJson(d: ReadyDetails): Array<Record<string, unknown>> {
  return d.targets.map((t, i) => ({
    pid: t.pid,
    localPort: t.localPort,
    remotePort: t.remotePort,
    reused: t.reused,
    owner: d.injected[i]?.owner ?? 'wand',
    otherSessions: d.injected[i]?.otherSessions ?? 0,
  }));
}

/** What a pod runs: the part of a ready event that is per pod. */
function podJson(d: ReadyDetails): Record<string, unknown> {
  return {
    pod: d.pod,
    container: d.container,
    remoteRoot: d.remoteRoot,
    debugpyVersion: d.injected[0]?.debugpyVersion ?? null,
    route: d.route,
    debugContainer: d.debugContainer,
    injector: d.injected[0]?.injector ?? null,
  };
}

/** The `-o json` shape of ready / reinjected / reconnected / pod-joined (documented in the README). */
export function readyJson(event: 'ready' | 'reinjected' | 'reconnected' | 'pod-joined', d: ReadyDetails): Record<string, unknown> {
  const { pod, container, ...rest } = podJson(d);
  return { event, namespace: d.namespace, pod, container, targets: targetsJson(d), ...rest };
}

/** --all-pods: the one `ready` event, every target with its pod (documented in the README). */
export function allReadyJson(e: { namespace: string; target: string; pods: ReadyDetails[] }): Record<string, unknown> {
  return {
    event: 'ready',
    allPods: true,
    namespace: e.namespace,
    target: e.target,
    targets: e.pods.flatMap((d) => targetsJson(d).map((t) => ({ pod: d.pod, container: d.container, ...t }))),
    pods: e.pods.map(podJson),
  };
}

function jsonOf(e: ViewEvent): Record<string, unknown> | null {
  switch (e.event) {
    case 'ready':
    case 'reinjected':
    case 'reconnected':
    case 'pod-joined':
      return readyJson(e.event, e);
    case 'all-ready':
      return allReadyJson(e);
    case 'pod-dropped':
      return { event: 'pod-dropped', pod: e.pod, reason: e.reason, remaining: e.remaining };
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
      return {
        event: 'stopped',
        closed: (e.closed ?? []).map((c) => ({
          ...('pod' in c && { pod: c.pod }),
          ...('result' in c
            ? { pid: c.pid, closed: c.result.closed, reason: c.result.reason, port: c.result.port ?? null }
            : { pid: c.pid, closed: false, reason: 'error', error: c.error.message }),
        })),
      };
    default:
      return null;
  }
}

function attachLines(d: ReadyDetails, withPod = false): string[] {
  const who = withPod ? `pod ${d.pod} ` : '';
  return d.targets.map((t) => {
    const local = t.localPort === null ? '(not forwarded: --no-forward)' : color.bold(`127.0.0.1:${t.localPort}`);
    const reuse = t.reused ? ' (debugpy was already listening: reused)' : '';
    return `  ${who}PID ${t.pid}: attach to ${local}  →  127.0.0.1:${t.remotePort} in the pod${reuse}`;
  });
}

/** Issue 15 item 4: a second session joins the first one's listener, and says so. */
function sharingLines(d: ReadyDetails): string[] {
  return d.targets.flatMap((t, i) => {
    const injected = d.injected[i];
    if (injected?.owner === 'app') return [`  ${color.yellow('!')} PID ${t.pid}: the app started this debugpy listener itself: it is reused and left open after the session`];
    if (!injected?.otherSessions) return [];
    return [
      `  ${color.yellow('!')} process ${t.pid} is already being debugged by another kubectl-wand session; joined — ` +
        'an editor may already be attached; the listener closes when the last session ends',
    ];
  });
}

/** The ready text of one pod, or of every pod with --all-pods (`snippet` then holds them all). */
function readyBlock(title: string, pods: ReadyDetails[], snippet: LaunchSnippet, withPod = false): string {
  const lines = [`${color.green('✔')} ${title}`, ...pods.flatMap((d) => [...attachLines(d, withPod), ...sharingLines(d)])];
  const first = pods[0];
  const version = first?.injected[0]?.debugpyVersion;
  if (first && version) lines.push(`  debugpy ${version}, code in ${first.remoteRoot}`);
  if (snippet.configurations.length > 0) {
    lines.push('  VS Code launch.json configuration (or rerun with --vscode to write it):');
    const body = JSON.stringify(snippet.compounds.length > 0 ? snippet : snippet.configurations[0], null, 2);
    lines.push(...body.split('\n').map((l) => `    ${l}`));
  }
  return `${lines.join('\n')}\n`;
}

/** --all-pods: a pod that joined, in one line per listener. */
function joinedText(d: ReadyDetails): string {
  return [`${color.green('+')} pod ${d.pod} joined (ready):`, ...attachLines(d, true), ...sharingLines(d)].join('\n');
}

function droppedText(e: { pod: string; reason: string; remaining: number }): string {
  const left = e.remaining === 0 ? 'no pod left: waiting for one to become ready' : `${e.remaining} pod(s) still debugged`;
  return `${color.yellow('-')} pod ${e.pod} dropped (${e.reason}): ${left}`;
}

export function createDebugRenderer(opts: RendererOptions): (event: ViewEvent) => void {
  const tty = Boolean((opts.err as NodeJS.WriteStream).isTTY);
  let lastReady: ReadyDetails | undefined;
  /** --all-pods: each pod's latest details, for the stop message */
  const readyByPod = new Map<string, ReadyDetails>();
  const remember = (d: ReadyDetails) => {
    lastReady = d;
    readyByPod.set(d.pod, d);
  };
  let statusShown = false;
  /** the pod-chosen line named the one pod (not so with --all-pods) */
  let podSaid = false;
  let lastWaitingPrinted = -Infinity;
  const say = (text: string) => {
    if (statusShown && tty) opts.err.write('\r\x1b[2K');
    statusShown = false;
    opts.err.write(text.endsWith('\n') ? text : `${text}\n`);
  };

  const human = (e: ViewEvent) => {
    switch (e.event) {
      case 'pod-chosen':
        podSaid = true;
        say(`${color.dim('→')} ${e.reason}`);
        return;
      case 'chosen':
        // --all-pods has no pod-chosen line: each pod's choice names its pod
        say(`${color.dim('→')} ${podSaid ? '' : `pod ${e.pod}, `}container ${e.container}: ${e.reason}`);
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
      case 'route':
        say(`${color.dim('→')} ${e.reason}: ${e.reused ? 'reusing' : 'starting'} debugger container ${e.debugContainer} in pod ${e.pod}`);
        return;
      case 'uploading':
        say(`${color.dim('→')} the image has no debugpy: copying ${e.origin} (${Math.round(e.bytes / 1024)} KiB)`);
        return;
      case 'ready':
        remember(e);
        say(readyBlock(`Ready: debugpy is listening in pod ${e.pod} (verified)`, [e], launchSnippetFor(e)));
        say(color.dim('Following the app (reloads are re-injected, a replaced pod is followed). Ctrl-C to stop.'));
        return;
      case 'all-ready':
        e.pods.forEach(remember);
        say(readyBlock(`Ready: debugpy is listening in ${e.pods.length} pod(s) of ${e.target} (verified)`, e.pods, launchSnippetForPods(e.pods, e.target), true));
        say(color.dim(`Following ${e.target}: pods that become ready are joined, pods that go away are dropped. Ctrl-C to stop.`));
        return;
      case 'pod-joined':
        remember(e);
        say(joinedText(e));
        return;
      case 'pod-dropped':
        say(droppedText(e));
        return;
      case 'reinjected':
        remember(e);
        say(`${color.green('↻')} the app reloaded${podSaid ? '' : ` in pod ${e.pod}`}: injected PID ${e.targets.map((t) => t.pid).join(', ')} (same ports, reattach your editor)`);
        return;
      case 'reconnected':
        remember(e);
        say(readyBlock(`Reconnected: now pod ${e.pod}`, [e], launchSnippetFor(e)));
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
      case 'stopped':
        say(stoppedText(e.closed ?? [], (pod) => (pod === undefined ? lastReady : readyByPod.get(pod))));
        return;
    }
  };

  return (event) => {
    if (!opts.json) return human(event);
    const doc = jsonOf(event);
    if (doc) opts.out.write(`${JSON.stringify(doc)}\n`);
    // stderr stays human in JSON mode: what was chosen, the route, a joined session, and the parting note.
    if (['chosen', 'pod-chosen', 'route', 'stopped', 'pod-joined', 'pod-dropped'].includes(event.event)) human(event);
    if (event.event === 'ready' || event.event === 'reinjected' || event.event === 'reconnected') {
      for (const line of sharingLines(event)) say(line);
      remember(event);
    }
    if (event.event === 'all-ready') {
      for (const line of event.pods.flatMap(sharingLines)) say(line);
      event.pods.forEach(remember);
    }
  };
}


/** Where a process's listener was, for the stop message. */
function portOf(pid: number, ready: ReadyDetails | undefined, reported?: number): string {
  const port = reported ?? ready?.targets.find((t) => t.pid === pid)?.remotePort;
  return port === undefined ? 'its debug port' : `127.0.0.1:${port}`;
}

/** One line per injected process: what ending the session left there (issue 15); with --all-pods its pod first. */
function closedLine(c: ClosedTarget | PodClosedTarget, ready: ReadyDetails | undefined): string {
  return 'pod' in c ? closedLineOf(c, ready).replace(/^ {2}/, `  pod ${c.pod} `) : closedLineOf(c, ready);
}

function closedLineOf(c: ClosedTarget, ready: ReadyDetails | undefined): string {
  if ('error' in c) {
    return `  PID ${c.pid}: could not close the debugger (${c.error.message}): debugpy may keep listening on ${portOf(c.pid, ready)} until the process exits`;
  }
  const r = c.result;
  const at = portOf(c.pid, ready, r.port);
  switch (r.reason) {
    case 'closed':
    case 'not-listening': {
      const resumed = r.resumedThreads ? `; ${r.resumedThreads} thread(s) held at a breakpoint resumed` : '';
      return `  PID ${c.pid}: debugger closed — nothing listens on ${at} any more, tracing is off${resumed}`;
    }
    case 'keep-listening':
      return (
        `  PID ${c.pid}: debugpy keeps listening on ${at} (--keep-listening): anyone allowed to port-forward to pod ${ready?.pod ?? ''} ` +
        'can attach and run code in it. To close it, run kubectl wand debug on it again without --keep-listening and stop that session'
      );
    case 'other-sessions':
      return `  PID ${c.pid}: left listening on ${at}: ${r.otherSessions ?? 'another'} other kubectl-wand session(s) still use it; the last one to end closes it`;
    case 'app-listener':
      return `  PID ${c.pid}: the app's own debugpy listener on ${at} was left as it was`;
    case 'adapter-killed':
      return `  PID ${c.pid}: ${r.fallback ?? 'the main thread did not run the close'}`;
    case 'opening':
      return `  PID ${c.pid}: the debugger was still starting in the process and could not be closed: debugpy keeps listening on ${at} until the process exits`;
    default:
      return `  PID ${c.pid}: the debugger could not be closed (${r.fallback ?? r.error ?? r.reason}): debugpy keeps listening on ${at} until the process exits`;
  }
}

function stoppedText(closed: Array<ClosedTarget | PodClosedTarget>, readyOf: (pod?: string) => ReadyDetails | undefined): string {
  if (closed.length === 0) return 'Stopped.';
  const pods = new Set(closed.map((c) => ('pod' in c ? c.pod : undefined)));
  const ready = readyOf();
  const title = pods.has(undefined) ? `Stopped${ready ? ` (pod ${ready.pod})` : ''}:` : `Stopped (${pods.size} pod(s)):`;
  return [title, ...closed.map((c) => closedLine(c, readyOf('pod' in c ? c.pod : undefined)))].join('\n');
}
