/**
 * plugin.yaml by krew's own rules (krew's ValidatePlugin plus krew-index's no-overlap check), kept
 * in step with the release template krew/.krew.yaml and the archives release.yml makes.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { manifestHeader, parseChecksums, PLACEHOLDER_SHA256, renderManifest, ROOT, TEMPLATE } from '../../../scripts/krew-manifest';

interface Platform {
  selector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  uri?: string;
  sha256?: string;
  bin?: string;
  files?: { from?: string; to?: string }[];
}
interface Manifest {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string };
  spec?: {
    version?: string;
    homepage?: string;
    shortDescription?: string;
    description?: string;
    caveats?: string;
    platforms?: Platform[];
  };
}

const read = (rel: string) => readFileSync(path.join(ROOT, rel), 'utf8');
const version = (JSON.parse(read('package.json')) as { version: string }).version;
const TAG = `v${version}`;
const PLATFORMS = [
  ['linux', 'amd64'],
  ['linux', 'arm64'],
  ['darwin', 'amd64'],
  ['darwin', 'arm64'],
  ['windows', 'amd64'],
] as const;
const WINDOWS_FORBIDDEN = ['CON', 'PRN', 'AUX', 'NUL', ...[1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((n) => [`COM${n}`, `LPT${n}`])];
const SEMVER = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

/** krew's validation (internal/index/validation) as a list of problems; empty when valid. */
function krewProblems(name: string, m: Manifest): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, problem: string) => ok || problems.push(problem);
  check(m.apiVersion === 'krew.googlecontainertools.github.com/v1alpha2', `apiVersion ${m.apiVersion}`);
  check(m.kind === 'Plugin', `kind ${m.kind}`);
  check(/^[\w-]+$/.test(name) && !WINDOWS_FORBIDDEN.includes(name.toUpperCase()), `unsafe name ${name}`);
  check(m.metadata?.name === name, `metadata.name ${m.metadata?.name} is not ${name}`);
  const spec = m.spec ?? {};
  check(Boolean(spec.shortDescription), 'no shortDescription');
  check(!/[\r\n]/.test(spec.shortDescription ?? ''), 'shortDescription has a line break');
  check(SEMVER.test(spec.version ?? ''), `version ${spec.version} is not vMAJOR.MINOR.PATCH`);
  const platforms = spec.platforms ?? [];
  check(platforms.length > 0, 'no platforms');
  platforms.forEach((p, i) => {
    const at = `platforms[${i}]`;
    check(Boolean(p.uri), `${at}: no uri`);
    check(/^[a-f0-9]{64}$/.test(p.sha256 ?? ''), `${at}: sha256 ${p.sha256} is not 64 lower-case hex`);
    check(Boolean(p.bin), `${at}: no bin`);
    if (p.files !== undefined) {
      check(p.files.length > 0, `${at}: files is empty`);
      for (const f of p.files) check(Boolean(f.from) && Boolean(f.to), `${at}: a file without from/to`);
    }
    const labels = p.selector?.matchLabels;
    check(Boolean(p.selector) && (Boolean(labels) || (p.selector?.matchExpressions?.length ?? 0) > 0), `${at}: empty selector`);
    for (const key of Object.keys(labels ?? {})) check(key === 'os' || key === 'arch', `${at}: selector key ${key}`);
    if (labels) check(Object.keys(labels).length > 0, `${at}: matchLabels empty`);
  });
  // krew-index: no os/arch may be matched by two platforms
  for (const os of ['linux', 'darwin', 'windows', 'freebsd']) {
    for (const arch of ['amd64', 'arm64', '386', 'arm', 'ppc64le', 's390x']) {
      const matching = platforms.filter((p) => Object.entries(p.selector?.matchLabels ?? {}).every(([k, v]) => ({ os, arch })[k] === v));
      check(matching.length <= 1, `${os}/${arch} is matched by ${matching.length} platforms`);
    }
  }
  return problems;
}

describe('plugin.yaml', () => {
  const manifest = parse(read('plugin.yaml')) as Manifest;
  const spec = manifest.spec!;

  test("passes krew's validation as wand.yaml", () => {
    expect(krewProblems('wand', manifest)).toEqual([]);
  });

  test('is the manifest of the current version', () => {
    expect(spec.version).toBe(TAG);
  });

  test('describes the plugin and its prerequisites', () => {
    expect(spec.homepage).toMatch(/^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/);
    expect(spec.shortDescription!.length).toBeLessThanOrEqual(60);
    expect(spec.description).toMatch(/debugpy/);
    expect(spec.caveats).toMatch(/Python 3\.14/);
    expect(spec.caveats).toMatch(/SYS_PTRACE/);
    expect(spec.caveats).toContain('kubectl wand completion install');
  });

  test('one platform per released os/arch, each a kubectl-wand archive with LICENSE', () => {
    const platforms = spec.platforms!;
    expect(platforms.map((p) => [p.selector!.matchLabels!.os, p.selector!.matchLabels!.arch])).toEqual(PLATFORMS.map((p) => [...p]));
    for (const p of platforms) {
      const { os, arch } = p.selector!.matchLabels!;
      const exe = os === 'windows' ? '.exe' : '';
      const archive = `kubectl-wand_${TAG}_${os}_${arch}.${os === 'windows' ? 'zip' : 'tar.gz'}`;
      expect(p.uri).toBe(`${spec.homepage}/releases/download/${TAG}/${archive}`);
      expect(p.bin).toBe(`kubectl-wand${exe}`);
      expect(p.files).toEqual([
        { from: `kubectl-wand${exe}`, to: '.' },
        { from: 'LICENSE', to: '.' },
      ]);
    }
  });

  test('is krew/.krew.yaml rendered for this version (npm run krew-manifest)', () => {
    const rendered = manifestHeader(TAG, true) + renderManifest(readFileSync(TEMPLATE, 'utf8'), TAG, () => PLACEHOLDER_SHA256);
    expect(read('plugin.yaml')).toBe(rendered);
  });
});

describe('krew/.krew.yaml (krew-release-bot template)', () => {
  const template = readFileSync(TEMPLATE, 'utf8');

  test('uses the tag and addURIAndSha for every platform', () => {
    expect(template).toMatch(/^ {2}version: \{\{ \.TagName \}\}$/m);
    const calls = [...template.matchAll(/\{\{addURIAndSha "([^"]+)" \.TagName \}\}/g)].map((m) => m[1]);
    expect(calls).toHaveLength(PLATFORMS.length);
  });

  test('rendered with real checksums, it passes the same validation', () => {
    const sums = parseChecksums(
      PLATFORMS.map(([os, arch], i) => `${String(i).repeat(64)}  kubectl-wand_v9.8.7_${os}_${arch}.${os === 'windows' ? 'zip' : 'tar.gz'}`).join('\n'),
    );
    const manifest = parse(renderManifest(template, 'v9.8.7', (uri) => sums.get(path.basename(uri))!)) as Manifest;
    expect(krewProblems('wand', manifest)).toEqual([]);
    expect(manifest.spec!.version).toBe('v9.8.7');
    expect(manifest.spec!.platforms![4]!.sha256).toBe('4'.repeat(64));
  });

  test('parseChecksums reads sha256sum output (text and binary mode)', () => {
    const a = 'A'.repeat(64);
    expect(parseChecksums(`${a}  dir/x.tar.gz\n${'b'.repeat(64)} *y.zip\nnoise\n`)).toEqual(
      new Map([
        ['x.tar.gz', 'a'.repeat(64)],
        ['y.zip', 'b'.repeat(64)],
      ]),
    );
  });
});

describe('release workflow', () => {
  const workflow = parse(read('.github/workflows/release.yml')) as {
    on: { push: { tags: string[] } };
    jobs: Record<string, { 'runs-on': string; strategy?: { matrix: { include: Record<string, string>[] } }; env?: Record<string, string>; steps: { uses?: string; run?: string; with?: Record<string, string> }[] }>;
  };
  const build = workflow.jobs.build!;
  const matrix = build.strategy!.matrix.include;

  test('runs on v* tags', () => {
    expect(workflow.on.push.tags).toEqual(['v*']);
  });

  test('builds every platform of plugin.yaml on a native runner', () => {
    expect(matrix.map((m) => [m.os, m.arch])).toEqual(PLATFORMS.map((p) => [...p]));
    const runner = (os: string, arch: string) => matrix.find((m) => m.os === os && m.arch === arch)!.runner!;
    expect(runner('darwin', 'arm64')).toMatch(/^macos-(14|15|latest)/);
    expect(runner('darwin', 'amd64')).toMatch(/^macos-13/);
    expect(runner('linux', 'arm64')).toMatch(/arm/);
    expect(runner('windows', 'amd64')).toMatch(/^windows/);
    expect(build.steps.some((s) => s.run?.includes('npm run package'))).toBe(true);
  });

  test("archives are named as plugin.yaml's URIs, with LICENSE inside", () => {
    const manifest = parse(read('plugin.yaml')) as Manifest;
    const uris = manifest.spec!.platforms!.map((p) => path.basename(p.uri!));
    const names = matrix.map((m) =>
      build.env!.ARCHIVE!.replace('${{ github.ref_name }}', TAG)
        .replace('${{ matrix.os }}', m.os!)
        .replace('${{ matrix.arch }}', m.arch!)
        .replace('${{ matrix.archive }}', m.archive!),
    );
    expect(names).toEqual(uris);
    const archive = build.steps.find((s) => s.run?.includes('tar -C'))!.run!;
    expect(archive).toMatch(/cp .*LICENSE/);
  });

  test('macOS executables are signed ad hoc after injection (scripts/package.ts)', () => {
    const script = read('scripts/package.ts');
    expect(script).toMatch(/codesign', \['--remove-signature'/);
    expect(script.indexOf("'--sign', '-'")).toBeGreaterThan(script.indexOf('await inject('));
  });

  test('publishes checksums and runs krew-release-bot with krew/.krew.yaml', () => {
    const publish = workflow.jobs.publish!;
    expect(publish.steps.some((s) => s.run?.includes('sha256sum') && s.run.includes('checksums.txt'))).toBe(true);
    const bot = publish.steps.find((s) => s.uses?.startsWith('rajatjindal/krew-release-bot@'));
    expect(bot?.with).toEqual({ krew_template_file: 'krew/.krew.yaml' });
  });
});

test('LICENSE is MIT, kubectl-wand authors, and npm ships it', () => {
  expect(existsSync(path.join(ROOT, 'LICENSE'))).toBe(true);
  expect(read('LICENSE')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} kubectl-wand authors\n/);
  const pkg = JSON.parse(read('package.json')) as { license: string; files: string[] };
  expect(pkg.license).toBe('MIT');
  expect(pkg.files).toContain('LICENSE');
});
