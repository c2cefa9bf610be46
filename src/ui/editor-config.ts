/**
 * What the editor needs to attach: a VS Code launch configuration (one per debugpy listener, plus a
 * compound when several workers were injected), and merging it into .vscode/launch.json.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { justMyCodeFor } from '../select/remote-root';
import type { ReadyDetails } from '../session/debug-session';
import type { DebugRunEvent } from '../session/debug';

export interface AttachTarget {
  pid: number;
  localPort: number;
}

export interface LaunchConfiguration {
  name: string;
  type: 'debugpy';
  request: 'attach';
  connect: { host: string; port: number };
  pathMappings: Array<{ localRoot: string; remoteRoot: string }>;
  justMyCode: boolean;
}

export interface Compound {
  name: string;
  configurations: string[];
}

export interface LaunchSnippet {
  configurations: LaunchConfiguration[];
  compounds: Compound[];
}

export function launchSnippet(opts: { pod: string; targets: AttachTarget[]; remoteRoot: string; justMyCode: boolean }): LaunchSnippet {
  const configurations = opts.targets.map((t): LaunchConfiguration => ({
    name: `wand: ${opts.pod} PID ${t.pid}`,
    type: 'debugpy',
    request: 'attach',
    connect: { host: '127.0.0.1', port: t.localPort },
    pathMappings: [{ localRoot: '${workspaceFolder}', remoteRoot: opts.remoteRoot }],
    justMyCode: opts.justMyCode,
  }));
  const compounds = configurations.length > 1 ? [{ name: `wand: ${opts.pod} (all workers)`, configurations: configurations.map((c) => c.name) }] : [];
  return { configurations, compounds };
}

/** The snippet for a session that is ready: one configuration per forwarded listener. */
export function launchSnippetFor(d: Pick<ReadyDetails, 'pod' | 'targets' | 'remoteRoot'>): LaunchSnippet {
  return launchSnippet({
    pod: d.pod,
    targets: d.targets.filter((t) => t.localPort !== null).map((t) => ({ pid: t.pid, localPort: t.localPort as number })),
    remoteRoot: d.remoteRoot,
    justMyCode: justMyCodeFor(d.remoteRoot),
  });
}

/**
 * --all-pods: one attach configuration per pod and listener, and ONE compound that starts them all
 * (its name stays the same as pods come and go, so a rewrite replaces it).
 */
export function launchSnippetForPods(pods: ReadonlyArray<Pick<ReadyDetails, 'pod' | 'targets' | 'remoteRoot'>>, target: string): LaunchSnippet {
  const configurations = pods.flatMap((d) => launchSnippetFor(d).configurations);
  const compounds = configurations.length > 0 ? [{ name: `wand: ${target} (all pods)`, configurations: configurations.map((c) => c.name) }] : [];
  return { configurations, compounds };
}

/**
 * --vscode: keeps launch.json in step with the session, rewritten (one write at a time) on every
 * ready, reinjected and reconnected event, and with --all-pods on every pod joined or dropped;
 * entries it wrote before that no longer apply are removed. `written` settles once the writes so far are done.
 */
export function launchJsonFollower(target: string, onWritten: (file: string) => void): { onEvent(event: DebugRunEvent): void; written(): Promise<void> } {
  let last: Promise<unknown> = Promise.resolve();
  const pods = new Map<string, ReadyDetails>();
  let allPodsOf: string | undefined;
  let wrote: string[] = [];
  const update = (event: DebugRunEvent): boolean => {
    switch (event.event) {
      case 'all-ready':
        allPodsOf = event.target;
        for (const d of event.pods) pods.set(d.pod, d);
        return true;
      case 'pod-joined':
        pods.set(event.pod, event);
        return true;
      case 'pod-dropped':
        return pods.delete(event.pod);
      case 'ready':
      case 'reinjected':
      case 'reconnected':
        if (allPodsOf === undefined) pods.clear();
        pods.set(event.pod, event);
        return true;
      default:
        return false;
    }
  };
  return {
    onEvent(event) {
      if (!update(event)) return;
      const snippet = allPodsOf === undefined ? launchSnippetFor([...pods.values()][0] as ReadyDetails) : launchSnippetForPods([...pods.values()], allPodsOf);
      const names = [...snippet.configurations, ...snippet.compounds].map((c) => c.name);
      const stale = wrote.filter((name) => !names.includes(name));
      wrote = names;
      last = last.then(() => writeLaunchJson(target, snippet, stale)).then(onWritten);
    },
    written: () => last.then(() => undefined, () => undefined),
  };
}

/** launch.json allows comments and trailing commas (JSONC): strip them before parsing. */
export function parseJsonc(text: string): unknown {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      i = text.indexOf('*/', i + 2) + 1 || text.length;
    } else {
      out += c;
    }
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, '$1'));
}

interface LaunchFile {
  version?: string;
  configurations?: Array<{ name?: string }>;
  compounds?: Array<{ name?: string }>;
  [key: string]: unknown;
}

/** Replaces our earlier entries (same names), removes the `stale` ones, and keeps everything else. */
export function mergeLaunch(existing: LaunchFile, snippet: LaunchSnippet, stale: readonly string[] = []): LaunchFile {
  const names = new Set([...snippet.configurations, ...snippet.compounds].map((c) => c.name).concat(stale));
  const keep = <T extends { name?: string }>(items: T[] | undefined) => (items ?? []).filter((c) => !c.name || !names.has(c.name));
  return {
    ...existing,
    version: existing.version ?? '0.2.0',
    configurations: [...keep(existing.configurations), ...snippet.configurations],
    ...(snippet.compounds.length > 0 || existing.compounds ? { compounds: [...keep(existing.compounds), ...snippet.compounds] } : {}),
  };
}

/** Writes or merges the snippet into launch.json; `target` is the file or its folder. */
export async function writeLaunchJson(target: string, snippet: LaunchSnippet, stale: readonly string[] = []): Promise<string> {
  const file = target.endsWith('.json') ? target : path.join(target, 'launch.json');
  const existing = existsSync(file) ? (parseJsonc(await fs.readFile(file, 'utf8')) as LaunchFile) : {};
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `${JSON.stringify(mergeLaunch(existing, snippet, stale), null, 2)}\n`);
  return file;
}
