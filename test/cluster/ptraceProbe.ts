/**
 * The tracing probe of issue 13's "Must show": `sys.remote_exec(1, '/dev/null')` run through a
 * kubectl command (`exec POD --`, `debug POD --target app ... -i --`), telling whether the kernel
 * let the caller write into PID 1 of the pod's (or target's) PID namespace.
 */
import { execFile } from 'node:child_process';

export const REMOTE_EXEC_PROBE = ['python3', '-c', "import sys; sys.remote_exec(1, '/dev/null'); print('remote_exec: sent')"];

export type ProbeVerdict = 'allowed' | 'PermissionError' | 'other';

export interface ProbeResult {
  verdict: ProbeVerdict;
  code: number;
  output: string;
}

/**
 * Runs `kubectl ...kubectlArgs -- python3 -c "...remote_exec(1, ...)"` with the given kubeconfig;
 * kubectlArgs end just before the command, e.g. ['exec', '-n', ns, pod] or
 * ['debug', pod, '-n', ns, '--target', 'app', '--profile', 'general', '--image', 'wand-test/python:3.14', '-i'].
 */
export function probeRemoteExec(kubeconfig: string, kubectlArgs: string[], kubectl = 'kubectl'): Promise<ProbeResult> {
  return new Promise((resolve) => {
    execFile(kubectl, [...kubectlArgs, '--', ...REMOTE_EXEC_PROBE], { env: { ...process.env, KUBECONFIG: kubeconfig }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        const verdict: ProbeVerdict = code === 0 && stdout.includes('remote_exec: sent')
          ? 'allowed'
          : /PermissionError: \[Errno 1\] Operation not permitted/.test(output) ? 'PermissionError' : 'other';
        resolve({ verdict, code, output });
      });
  });
}
