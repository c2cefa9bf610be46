/** Shared by the jest wrappers of the agent's Python tests (agent.test.ts, listener.test.ts). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { imageRoot } from '../../cluster/images/images';

/** the test cluster's full image (npm run images builds it; CI always does) */
const IMAGE_ROOT = imageRoot('wand-test/python:3.14');

/** Python test modules run by their own jest wrapper */
export const OWN_WRAPPER = new Set(['test_listener']);

export function testRoot(): string | undefined {
  if (process.env.WAND_TEST_ROOT) return process.env.WAND_TEST_ROOT;
  const isRoot = process.getuid?.() === 0;
  return isRoot && existsSync(join(IMAGE_ROOT, 'usr/bin/python3.14')) ? IMAGE_ROOT : undefined;
}
