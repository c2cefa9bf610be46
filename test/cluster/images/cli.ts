/** `npm run images`: build (or find cached) test images and print where they are. */
import { ensureImages } from './images';

ensureImages((line) => process.stderr.write(`images: ${line}\n`))
  .then((roots) => {
    for (const [image, root] of Object.entries(roots)) process.stdout.write(`${image}\t${root}\n`);
  })
  .catch((err: Error) => {
    process.stderr.write(`images: ${err.message}\n`);
    process.exit(1);
  });
