/** Where the app's code lives in the pod, and what that means for the editor's attach settings. */
import type { InjectResult } from '../agent/contract';

/**
 * Where the code lives in the pod: the working directory. The main file is no guide when a server
 * launches the app (`python -m uvicorn` has uvicorn's own __main__ under site-packages), so it is
 * used only when the process runs from `/`.
 */
export function remoteRootOf(result: InjectResult | undefined): string {
  if (!result) return '/';
  if (result.cwd && result.cwd !== '/') return result.cwd;
  return result.mainFile ? directoryOf(result.mainFile) : '/';
}

/** path.posix.dirname for an absolute file path (select/ imports nothing that runs). */
function directoryOf(file: string): string {
  const slash = file.lastIndexOf('/');
  return slash > 0 ? file.slice(0, slash) : slash === 0 ? '/' : '.';
}

/** Breakpoints in site-packages are rejected under justMyCode: turn it off for installed apps. */
export function justMyCodeFor(remoteRoot: string): boolean {
  return !/\/(site|dist)-packages(\/|$)/.test(remoteRoot);
}
