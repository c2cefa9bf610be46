import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * A debugpy to stream into images without one (--debugpy-from): the 3.14 test image's own copy
 * (Debian's 1.8.20, pydevd vendored inside).
 */
export function localDebugpyDir(): string {
  const cache = process.env.WAND_IMAGE_CACHE ?? '/var/cache/kubectl-wand/images';
  for (const key of readdirSync(cache)) {
    const dir = path.join(cache, key, 'wand-test_python_3.14', 'usr/lib/python3/dist-packages');
    if (existsSync(path.join(dir, 'debugpy', '__init__.py'))) return dir;
  }
  throw new Error('no debugpy in the cached test images');
}
