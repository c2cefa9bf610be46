/**
 * A newer kubectl than the machine's (the Cloud SDK ships 1.27–1.33): Debian testing's `kubectl`
 * package (source `kubernetes`, a static Go binary), downloaded with the apt of the test images'
 * base root and unpacked without installing. Cached under /var/cache/kubectl-wand/kubectl/<version>.
 *
 * apt runs chrooted in a throw-away overlay of the base root inside a private mount namespace, so
 * the cached base (from which the images are derived) is never changed.
 */
import { execFile } from 'node:child_process';
import { existsSync, promises as fs, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { imageCacheDir } from './images';

const run = promisify(execFile);

export function kubectlCacheDir(): string {
  return process.env.WAND_KUBECTL_CACHE ?? path.join(path.dirname(imageCacheDir()), 'kubectl');
}

/** `/var/cache/kubectl-wand/kubectl/1.36.4/usr/bin/kubectl` for every cached version, newest first */
export function cachedDebianKubectls(): Array<{ version: string; minor: number; path: string }> {
  const dir = kubectlCacheDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((v) => /^1\.\d+\.\d+/.test(v) && existsSync(path.join(dir, v, 'usr/bin/kubectl')))
    .map((version) => ({ version, minor: Number(version.split('.')[1]), path: path.join(dir, version, 'usr/bin/kubectl') }))
    .sort((a, b) => b.minor - a.minor || b.version.localeCompare(a.version, undefined, { numeric: true }));
}

// The shell only sequences fixed commands; the two paths arrive as positional parameters.
// Valid-Until is ignored: the mirror's testing Release file may be past it (see the tracing notes).
const DOWNLOAD_SCRIPT = `set -e
base="$1"; work="$2"
mkdir -p "$work/upper" "$work/work" "$work/root"
mount -t overlay overlay -o "lowerdir=$base,upperdir=$work/upper,workdir=$work/work" "$work/root"
mount --bind /etc/resolv.conf "$work/root/etc/resolv.conf"
mount -t proc proc "$work/root/proc"
mkdir -p "$work/root/tmp/kubectl-download"
cd "$work/root/tmp/kubectl-download"
chroot "$work/root" apt-get -qq -o Acquire::Check-Valid-Until=false update
chroot "$work/root" sh -c 'cd /tmp/kubectl-download && apt-get -qq download kubectl'
cp "$work/root"/tmp/kubectl-download/kubectl_*.deb "$work/"
`;

/** Downloads and unpacks Debian testing's kubectl unless a version is already cached; returns its path. */
export async function ensureDebianKubectl(baseRoot: string, log: (line: string) => void = () => undefined): Promise<string> {
  const cached = cachedDebianKubectls()[0];
  if (cached) return cached.path;
  const dir = kubectlCacheDir();
  await fs.mkdir(dir, { recursive: true });
  const work = await fs.mkdtemp(path.join(dir, '.download-'));
  try {
    log(`apt-get download kubectl (Debian testing) in an overlay of ${baseRoot}`);
    await run('unshare', ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', DOWNLOAD_SCRIPT, 'kubectl-download', baseRoot, work],
      { maxBuffer: 16 * 1024 * 1024 });
    const deb = (await fs.readdir(work)).find((f) => /^kubectl_.*\.deb$/.test(f));
    if (!deb) throw new Error('apt-get download kubectl produced no package');
    const unpacked = path.join(work, 'unpacked');
    await run('dpkg', ['-x', path.join(work, deb), unpacked]);
    const { stdout } = await run(path.join(unpacked, 'usr/bin/kubectl'), ['version', '--client', '-o', 'json']);
    const version = (JSON.parse(stdout) as { clientVersion: { gitVersion: string } }).clientVersion.gitVersion.replace(/^v/, '').replace(/[^0-9.].*$/, '');
    log(`kubectl ${version} from ${deb}`);
    await fs.rm(path.join(dir, version), { recursive: true, force: true });
    await fs.rename(unpacked, path.join(dir, version));
    return path.join(dir, version, 'usr/bin/kubectl');
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
