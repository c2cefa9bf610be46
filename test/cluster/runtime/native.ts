/**
 * The runtime's one native helper (native/enter-container.c), compiled from source with the
 * machine's C compiler and cached next to the test images, keyed by the source text: built by
 * `npm run images`, or on first use.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { imageCacheDir } from '../images/images';

const run = promisify(execFile);
const SOURCE = path.join(__dirname, 'native', 'enter-container.c');

function helperPath(): string {
  const key = createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 12);
  return path.join(imageCacheDir(), 'native', key, 'enter-container');
}

let building: Promise<string> | null = null;

/** path of the compiled enter-container helper, compiling it if the cache has none */
export function enterContainerHelper(): Promise<string> {
  building ??= (async () => {
    const binary = helperPath();
    if (existsSync(binary)) return binary;
    await fs.mkdir(path.dirname(binary), { recursive: true });
    const partial = `${binary}.${process.pid}.partial`;
    try {
      await run('cc', ['-O2', '-Wall', '-o', partial, SOURCE]);
    } catch (error) {
      throw new Error(`cannot compile ${SOURCE} (a C compiler is required: apt-get install gcc): ${(error as { stderr?: string }).stderr ?? error}`);
    }
    await fs.rename(partial, binary); // atomic: concurrent builders leave one complete file
    return binary;
  })();
  building.catch(() => (building = null));
  return building;
}
