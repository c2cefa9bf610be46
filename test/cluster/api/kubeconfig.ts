/** The kubeconfig kubectl is pointed at: one cluster, an all-powerful user, one without exec, one without ephemeral containers. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';

export const CONTEXT = 'wand-test';
export const NOEXEC_CONTEXT = 'wand-test-noexec';
export const NODEBUG_CONTEXT = 'wand-test-nodebug';

export interface KubeconfigInput {
  server: string;
  caCert: string;
  adminToken: string;
  noexecToken: string;
  nodebugToken: string;
}

export function renderKubeconfig(input: KubeconfigInput): string {
  const context = (name: string) => ({ name, context: { cluster: CONTEXT, user: name, namespace: 'default' } });
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{
      name: CONTEXT,
      cluster: { server: input.server, 'certificate-authority-data': Buffer.from(input.caCert).toString('base64') },
    }],
    users: [
      { name: CONTEXT, user: { token: input.adminToken } },
      { name: NOEXEC_CONTEXT, user: { token: input.noexecToken } },
      { name: NODEBUG_CONTEXT, user: { token: input.nodebugToken } },
    ],
    contexts: [context(CONTEXT), context(NOEXEC_CONTEXT), context(NODEBUG_CONTEXT)],
    'current-context': CONTEXT,
    preferences: {},
  });
}

/** Writes `<stateDir>/kubeconfig` (mode 0600, as kubectl expects) and returns its path. */
export async function writeKubeconfig(stateDir: string, input: KubeconfigInput): Promise<string> {
  const path = join(stateDir, 'kubeconfig');
  await writeFile(path, renderKubeconfig(input), { mode: 0o600 });
  return path;
}
