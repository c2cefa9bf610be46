/**
 * Assembles the in-pod agent. Its source is a package of small Python modules (src/agent/wand_agent/,
 * each with its unittest); what `kubectl exec -i … -- python3 -` runs is one stdlib-only program,
 * since nothing of ours can be imported in the pod. The program is the package docstring, every
 * module's top-level standard-library imports (once, sorted), then each module's body in dependency
 * order (ties by name) with its `from .x import …` lines dropped. The same sources give the same
 * bytes: no timestamps, no file-system order.
 *
 * Code that runs inside the target (src/agent/wand_agent/in_target/*.py, e.g. the listener's close)
 * is not part of the agent: the payload ships it as text. A module line
 * `NAME = in_target_source('file.py')` (which reads the file when the package runs from source, in
 * the unit tests) becomes `NAME = r'''<the file's text>'''` in the program.
 */
import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';

/** The package's directory next to this module (src/agent/ under ts-jest and tsx). */
export const AGENT_PACKAGE_DIR = path.join(__dirname, 'wand_agent');

export interface AgentModule {
  /** file name without .py */
  name: string;
  /** the first paragraph of its docstring */
  title: string[];
  /** top-level `import x` of the standard library */
  imports: string[];
  /** the package modules it imports names from (`from .x import …`) */
  deps: string[];
  body: string;
}

const BANNER = `# ${'-'.repeat(93)}`;
const STDLIB_IMPORT = /^import ([A-Za-z_][\w.]*)$/;
const PACKAGE_IMPORT = /^from \.(\w+) import (.*)$/;
/** any import of the package that the assembly would leave in (lazy or absolute) */
const STRAY_PACKAGE_IMPORT = /^\s*(from\s+\.|from\s+wand_agent\b|import\s+wand_agent\b)/m;

export function parseModule(name: string, text: string): AgentModule {
  const fail = (why: string): never => {
    throw new Error(`src/agent/wand_agent/${name}.py: ${why}`);
  };
  if (!text.startsWith('"""')) fail('must start with a """docstring"""');
  const docEnd = text.indexOf('"""', 3);
  if (docEnd < 0) fail('unterminated docstring');
  const title = text.slice(3, docEnd).split('\n\n')[0]!.split('\n').map((line) => line.trim());
  const lines = text.slice(docEnd + 3).split('\n').slice(1);
  const imports: string[] = [];
  const deps: string[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const stdlib = STDLIB_IMPORT.exec(line);
    const fromPackage = PACKAGE_IMPORT.exec(line);
    if (stdlib) {
      imports.push(stdlib[1]!);
    } else if (fromPackage) {
      deps.push(fromPackage[1]!);
      if (fromPackage[2]!.startsWith('(')) {
        while (!lines[i]!.includes(')')) if (++i >= lines.length) fail('unterminated import');
      }
    } else {
      break;
    }
  }
  const body = lines.slice(i).join('\n').trim();
  if (STRAY_PACKAGE_IMPORT.test(body)) fail('imports from the package only at the top, as `from .module import name`');
  return { name, title, imports, deps, body };
}

/** Dependencies first; among modules whose dependencies are all placed, by name. */
export function dependencyOrder(modules: readonly AgentModule[]): AgentModule[] {
  const byName = new Map(modules.map((m) => [m.name, m]));
  for (const m of modules) {
    for (const dep of m.deps) if (!byName.has(dep)) throw new Error(`${m.name}.py imports from .${dep}, which does not exist`);
  }
  const placed = new Set<string>();
  const order: AgentModule[] = [];
  while (order.length < modules.length) {
    const next = [...byName.values()]
      .filter((m) => !placed.has(m.name) && m.deps.every((d) => placed.has(d)))
      .sort((a, b) => (a.name < b.name ? -1 : 1))[0];
    if (!next) {
      const left = modules.filter((m) => !placed.has(m.name)).map((m) => m.name);
      throw new Error(`import cycle among ${left.join(', ')}`);
    }
    placed.add(next.name);
    order.push(next);
  }
  return order;
}

const IN_TARGET_SOURCE = /^(\w+) = in_target_source\('([\w.]+)'\)$/gm;

/** A module body with each `NAME = in_target_source('file.py')` replaced by the file's text. */
export function inlineTargetSources(name: string, body: string, inTarget: ReadonlyMap<string, string>): string {
  return body.replace(IN_TARGET_SOURCE, (_, variable: string, file: string) => {
    const text = inTarget.get(file);
    if (text === undefined) throw new Error(`src/agent/wand_agent/${name}.py: in_target/${file} does not exist`);
    // a raw string holds any text but one containing ''' or ending in a backslash
    if (text.includes("'''") || text.endsWith('\\')) throw new Error(`in_target/${file}: must not contain ''' nor end with a backslash`);
    return `${variable} = r'''${text}'''`;
  });
}

/**
 * The program from the package's source texts: `__init__` (docstring), one text per module, and
 * the texts of in_target/ by file name.
 */
export function assembleSources(init: string, sources: ReadonlyMap<string, string>, inTarget: ReadonlyMap<string, string> = new Map()): string {
  const modules = dependencyOrder([...sources].map(([name, text]) => parseModule(name, text)));
  for (const m of modules) m.body = inlineTargetSources(m.name, m.body, inTarget);
  const imports = [...new Set(modules.flatMap((m) => m.imports))].sort();
  const sections = modules.map((m) =>
    [BANNER, ...m.title.map((line) => `# ${line}`.trimEnd()), `# (wand_agent/${m.name}.py)`, BANNER, '', '', m.body].join('\n'),
  );
  return [init.trim(), imports.map((name) => `import ${name}`).join('\n'), ...sections].join('\n\n\n') + '\n';
}

/** The program that the CLI streams into the pod, from the package directory. */
export function assembleAgent(packageDir: string = AGENT_PACKAGE_DIR): string {
  const sources = new Map<string, string>();
  for (const file of readdirSync(packageDir).filter((f) => f.endsWith('.py') && f !== '__init__.py').sort()) {
    sources.set(file.slice(0, -3), readFileSync(path.join(packageDir, file), 'utf8'));
  }
  const inTargetDir = path.join(packageDir, 'in_target');
  const inTarget = new Map<string, string>();
  for (const file of readdirSync(inTargetDir).filter((f) => f.endsWith('.py')).sort()) {
    inTarget.set(file, readFileSync(path.join(inTargetDir, file), 'utf8'));
  }
  return assembleSources(readFileSync(path.join(packageDir, '__init__.py'), 'utf8'), sources, inTarget);
}
