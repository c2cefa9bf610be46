/**
 * The agent's assembly (src/agent/assemble.ts, scripts/assemble-agent.ts): the same bytes from every
 * build, a program the local python3 runs, small modules, and the package's rules enforced.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AGENT_PACKAGE_DIR, assembleAgent, assembleSources, dependencyOrder, parseModule } from '../../../src/agent/assemble';
import type { ListResult } from '../../../src/agent/contract';

const ROOT = path.join(__dirname, '..', '..', '..');
const MAX_MODULE_LINES = 600;

function assembleWithScript(out: string): Buffer {
  const run = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [path.join(ROOT, 'scripts', 'assemble-agent.ts'), '--out', out], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return readFileSync(out);
}

describe('the assembled agent', () => {
  it('is the same bytes from two builds, and what the CLI loads from src/', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wand-assemble-'));
    try {
      const first = assembleWithScript(path.join(dir, 'a.py'));
      const second = assembleWithScript(path.join(dir, 'b.py'));
      expect(first.equals(second)).toBe(true);
      expect(first.toString('utf8')).toBe(assembleAgent());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('compiles and answers `list` under the local python3, as the CLI runs it', () => {
    const request = Buffer.from(JSON.stringify({ op: 'list', sampleSeconds: 0 })).toString('base64');
    const run = spawnSync('python3', ['-'], { input: `${assembleAgent()}\nmain("${request}")\n`, encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const events = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; result: ListResult });
    expect(events).toHaveLength(1);
    expect(events[0]!.event).toBe('result');
    const processes = events[0]!.result.processes;
    expect(processes.length).toBeGreaterThan(0);
    for (const p of processes) expect(p.reasonCode === null).toBe(p.debuggable);
  });

  it('imports each standard module once, at the top, and holds no import of the package', () => {
    const program = assembleAgent();
    const head = program.slice(0, program.indexOf('\n# ---'));
    const imports = head.split('\n').filter((line) => /^import \w+$/.test(line));
    expect(imports).toEqual(['_thread', 'base64', 'json', 'os', 're', 'select', 'signal', 'struct', 'sys', 'time'].map((m) => `import ${m}`));
    expect(program).not.toMatch(/^\s*from \.|wand_agent import/m);
  });
});

describe('the package', () => {
  it(`has no module over ${MAX_MODULE_LINES} lines (nor any other file under src/agent)`, () => {
    const files = [
      ...readdirSync(AGENT_PACKAGE_DIR).map((f) => path.join(AGENT_PACKAGE_DIR, f)),
      ...readdirSync(path.join(ROOT, 'src', 'agent'))
        .filter((f) => /\.(ts|py)$/.test(f))
        .map((f) => path.join(ROOT, 'src', 'agent', f)),
    ].filter((f) => /\.(ts|py)$/.test(f));
    expect(files.length).toBeGreaterThan(10);
    const long = files.filter((f) => readFileSync(f, 'utf8').split('\n').length > MAX_MODULE_LINES);
    expect(long).toEqual([]);
  });
});

describe('assembly rules', () => {
  const mod = (name: string, deps: string[], body = `X_${name} = 1`) =>
    `"""${name}: a module."""\n\nimport os\n${deps.map((d) => `from .${d} import X_${d}`).join('\n')}\n\n${body}\n`;

  it('puts dependencies first, then by name, whatever the order of the files', () => {
    const modules = [mod('c', ['a']), mod('b', []), mod('a', ['b'])].map((text, i) => parseModule(['c', 'b', 'a'][i]!, text));
    expect(dependencyOrder(modules).map((m) => m.name)).toEqual(['b', 'a', 'c']);
    expect(dependencyOrder([...modules].reverse()).map((m) => m.name)).toEqual(['b', 'a', 'c']);
  });

  it('drops the package imports, also over several lines, and hoists the standard ones', () => {
    const text = '"""m: doc."""\n\nimport sys\nfrom .a import (X_a,\n                Y_a)\n\nZ = X_a\n';
    const program = assembleSources('"""The agent."""', new Map([['m', text], ['a', mod('a', [])]]));
    expect(program).toContain('import os\nimport sys\n');
    expect(program).not.toContain('from .a');
    expect(program.indexOf('X_a = 1')).toBeLessThan(program.indexOf('Z = X_a'));
  });

  it('refuses a lazy import of the package, a cycle, an unknown module', () => {
    expect(() => parseModule('m', '"""m."""\n\ndef f():\n    from .a import X\n')).toThrow(/only at the top/);
    expect(() => dependencyOrder([parseModule('a', mod('a', ['b'])), parseModule('b', mod('b', ['a']))])).toThrow(/cycle/);
    expect(() => dependencyOrder([parseModule('a', mod('a', ['zz']))])).toThrow(/does not exist/);
  });
});

describe('code that runs in the target (in_target/)', () => {
  it('travels as the exact text of its file, and the program never reads it from disk', () => {
    const program = assembleAgent();
    const listener = readFileSync(path.join(AGENT_PACKAGE_DIR, 'in_target', 'listener.py'), 'utf8');
    expect(program).toContain(`LISTENER_SOURCE = r'''${listener}'''`);
    expect(program).not.toMatch(/^\w+ = in_target_source\(/m);
    const run = spawnSync('python3', ['-'], { input: `${program}\nprint(LISTENER_SOURCE == open(${JSON.stringify(path.join(AGENT_PACKAGE_DIR, 'in_target', 'listener.py'))}).read())\n`, encoding: 'utf8', timeout: 30_000 });
    expect(run.stdout.trim()).toBe('True');
  });

  it('names a missing file', () => {
    const module = '"""M."""\n\nX = in_target_source(\'gone.py\')\n';
    expect(() => assembleSources('"""A."""', new Map([['m', module]]))).toThrow('in_target/gone.py does not exist');
  });
});
