/**
 * `npm run build` step: writes the in-pod agent, assembled from src/agent/wand_agent/ (see
 * src/agent/assemble.ts), to build/src/agent/agent.py, where the built CLI reads it.
 *
 * Usage: tsx scripts/assemble-agent.ts [--out FILE | --stdout]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { assembleAgent } from '../src/agent/assemble';

export const BUILT_AGENT = path.resolve(__dirname, '..', 'build', 'src', 'agent', 'agent.py');

function main(argv: string[]): void {
  const program = assembleAgent();
  if (argv.includes('--stdout')) {
    process.stdout.write(program);
    return;
  }
  const at = argv.indexOf('--out');
  const out = at >= 0 && argv[at + 1] ? path.resolve(argv[at + 1]!) : BUILT_AGENT;
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, program);
}

if (require.main === module) main(process.argv.slice(2));
