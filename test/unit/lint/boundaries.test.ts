/**
 * The layer rules of eslint.config.mjs, through the ESLint Node API on real file paths: the
 * imports the code map forbids are reported, the ones it allows are not.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';

const ROOT = path.resolve(__dirname, '../../..');
// the config is handed over as an object: jest's module sandbox cannot load it by import()
const eslint = new ESLint({ cwd: ROOT, overrideConfigFile: true, overrideConfig: require(path.join(ROOT, 'eslint.config.cjs')) });

/** The rule ids ESLint reports for `file` with `line` added at its top. */
async function reportsWith(file: string, line: string): Promise<string[]> {
  const text = `${line}\n${readFileSync(path.join(ROOT, file), 'utf8')}`;
  const [result] = await eslint.lintText(text, { filePath: path.join(ROOT, file) });
  return result!.messages.map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

const restricted = expect.stringMatching(/^@typescript-eslint\/no-restricted-imports: /);

describe('layer boundaries (npm run lint)', () => {
  jest.setTimeout(60_000);

  it('passes the files as they are', async () => {
    expect(await reportsWith('src/select/choose.ts', '')).toEqual([]);
    expect(await reportsWith('src/ui/chooser.ts', '')).toEqual([]);
  });

  it('reports execa imported in src/select/', async () => {
    const reports = await reportsWith('src/select/choose.ts', "import { execa } from 'execa';\nvoid execa;");
    expect(reports).toEqual(expect.arrayContaining([expect.stringContaining("'execa' import is restricted"), restricted]));
  });

  it('reports node:child_process anywhere in src/ but the kubectl boundary', async () => {
    const line = "import { spawn } from 'node:child_process';\nvoid spawn;";
    expect(await reportsWith('src/session/debug.ts', line)).toEqual([expect.stringContaining('only src/kube/kubectl.ts starts processes')]);
    expect(await reportsWith('src/kube/kubectl.ts', line)).toEqual([]);
  });

  it('reports src/cli/ imported from src/ui/', async () => {
    const reports = await reportsWith('src/ui/format.ts', "import { SCRIPT_NAME } from '../cli/main';\nvoid SCRIPT_NAME;");
    expect(reports).toEqual([expect.stringContaining('src/ui/ must not import src/cli/')]);
  });

  it('lets src/ui/ import types, not code, from the engine', async () => {
    expect(await reportsWith('src/ui/format.ts', "import type { Chooser } from '../session/chooser';\nexport type C = Chooser;")).toEqual([]);
    expect(await reportsWith('src/ui/format.ts', "import { NO_CHOOSER } from '../session/chooser';\nvoid NO_CHOOSER;")).toEqual([restricted]);
  });

  it('reports the engine or the CLI imported from src/kube/', async () => {
    expect(await reportsWith('src/kube/lines.ts', "import { debugTarget } from '../session/debug';\nvoid debugTarget;")).toEqual([restricted]);
    expect(await reportsWith('src/kube/lines.ts', "import { renderError } from '../ui/errors';\nvoid renderError;")).toEqual([restricted]);
  });

  it('reports src/cli/ imported from the engine', async () => {
    expect(await reportsWith('src/session/debug.ts', "import { kubectlFrom } from '../cli/context';\nvoid kubectlFrom;")).toEqual([restricted]);
  });

  it('reports a floating promise', async () => {
    const reports = await reportsWith('src/ui/format.ts', 'export function f(p: Promise<void>): void {\n  p.then(() => undefined);\n}');
    expect(reports).toEqual([expect.stringMatching(/^@typescript-eslint\/no-floating-promises: /)]);
  });
});
