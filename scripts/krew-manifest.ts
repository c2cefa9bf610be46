/**
 * Renders krew/.krew.yaml into a krew plugin manifest, the way krew-release-bot does on a release:
 * `{{ .TagName }}` becomes the tag and `{{addURIAndSha "URL" .TagName }}` becomes `uri:` and
 * `sha256:` lines, the checksum taken from a sha256sum-style file (the release's checksums.txt).
 *
 * Usage: tsx scripts/krew-manifest.ts [--tag vX.Y.Z] [--checksums FILE] [--out FILE]
 *   --tag        default: v + package.json's version
 *   --checksums  without it every sha256 is 64 zeros (the committed plugin.yaml until a release)
 *   --out        default: stdout
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');
export const TEMPLATE = path.join(ROOT, 'krew', '.krew.yaml');
export const PLACEHOLDER_SHA256 = '0'.repeat(64);

const TAG = /\{\{\s*\.TagName\s*\}\}/g;
const ADD_URI_AND_SHA = /^([ \t]*)\{\{\s*addURIAndSha\s+"([^"]+)"\s+\.TagName\s*\}\}[ \t]*$/gm;

/** archive file name → sha256, from `sha256sum`'s output (`<hex>  <name>` or `<hex> *<name>`). */
export function parseChecksums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([0-9a-fA-F]{64})\s+\*?(.+?)\s*$/.exec(line);
    if (match) sums.set(path.basename(match[2]!), match[1]!.toLowerCase());
  }
  return sums;
}

/** The manifest for `tag` (the template's leading comment dropped); `sha256Of(uri)` gives each checksum. */
export function renderManifest(template: string, tag: string, sha256Of: (uri: string) => string): string {
  const lines = template.split('\n');
  const firstContent = lines.findIndex((line) => !line.startsWith('#'));
  return lines
    .slice(Math.max(0, firstContent))
    .join('\n')
    .replace(ADD_URI_AND_SHA, (_all, indent: string, url: string) => {
      const uri = url.replace(TAG, tag);
      return `${indent}uri: ${uri}\n${indent}sha256: "${sha256Of(uri)}"`; // quoted: an all-digit sum would be a YAML number
    })
    .replace(TAG, tag);
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

export function manifestHeader(tag: string, placeholders: boolean): string {
  const header = `# krew manifest of kubectl-wand ${tag}, rendered from krew/.krew.yaml by scripts/krew-manifest.ts.\n`;
  if (!placeholders) return header;
  return (
    header +
    '# The sha256 values are placeholders until the release: the release workflow renders this file\n' +
    '# with the real checksums and attaches it to the GitHub release (krew-release-bot does the same for\n' +
    '# krew-index). Local test: kubectl krew install --manifest=<rendered plugin.yaml> --archive=<tar.gz>\n'
  );
}

function main(argv: string[]): void {
  let tag = `v${packageVersion()}`;
  let checksums: Map<string, string> | undefined;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i += 2) {
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${argv[i]} needs a value`);
    if (argv[i] === '--tag') tag = value;
    else if (argv[i] === '--checksums') checksums = parseChecksums(readFileSync(value, 'utf8'));
    else if (argv[i] === '--out') out = value;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  const sha256Of = (uri: string) => {
    if (!checksums) return PLACEHOLDER_SHA256;
    const sum = checksums.get(path.basename(new URL(uri).pathname));
    if (!sum) throw new Error(`no checksum for ${uri}`);
    return sum;
  };
  const manifest = manifestHeader(tag, !checksums) + renderManifest(readFileSync(TEMPLATE, 'utf8'), tag, sha256Of);
  if (out) writeFileSync(out, manifest);
  else process.stdout.write(manifest);
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`krew-manifest: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
