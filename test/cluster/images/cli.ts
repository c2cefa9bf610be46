/** `npm run images`: build (or find cached) test images and the runtime's native helper, and print where they are. */
import { enterContainerHelper } from '../runtime/native';
import { ensureImages } from './images';

Promise.all([ensureImages((line) => process.stderr.write(`images: ${line}\n`)), enterContainerHelper()])
  .then(([roots, helper]) => {
    for (const [image, root] of Object.entries(roots)) process.stdout.write(`${image}\t${root}\n`);
    process.stdout.write(`enter-container\t${helper}\n`);
  })
  .catch((err: Error) => {
    process.stderr.write(`images: ${err.message}\n`);
    process.exit(1);
  });
