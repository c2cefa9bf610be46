/** The background process behind `cluster up`: runs the cluster until SIGTERM or SIGINT. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { startCluster } from './cluster';
import { parsePtraceScope } from './runtime/security';

async function main(): Promise<void> {
  const [state, scope, ...manifests] = process.argv.slice(2);
  const ready = path.join(state, 'ready');
  try {
    const cluster = await startCluster({ stateDir: state, manifests, ptraceScope: parsePtraceScope(scope) });
    const stop = () => {
      cluster.stop().finally(() => process.exit(0));
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    await fs.writeFile(ready, JSON.stringify({ kubeconfig: cluster.kubeconfig, url: cluster.url }));
    process.stdout.write(`ready: ${cluster.url}\n`);
  } catch (error) {
    process.stdout.write(`failed: ${(error as Error).stack ?? error}\n`);
    await fs.writeFile(path.join(state, 'failed'), String(error));
    process.exit(1);
  }
}

void main();
