/**
 * `npm run images`: build (or find cached) test images, the runtime's native helper and the newer
 * kubectl, and print where they are.
 */
import path from 'node:path';
import { enterContainerHelper } from '../runtime/native';
import { ensureImages } from './images';
import { ensureDebianKubectl } from './kubectl';

async function main(): Promise<void> {
  const log = (line: string): void => void process.stderr.write(`images: ${line}\n`);
  const [roots, helper] = await Promise.all([ensureImages(log), enterContainerHelper()]);
  for (const [image, root] of Object.entries(roots)) process.stdout.write(`${image}\t${root}\n`);
  process.stdout.write(`enter-container\t${helper}\n`);
  const base = path.join(path.dirname(roots['wand-test/python:3.14']), 'base');
  process.stdout.write(`kubectl (Debian testing)\t${await ensureDebianKubectl(base, log)}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`images: ${err.message}\n`);
  process.exit(1);
});
