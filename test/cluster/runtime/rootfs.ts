/** Preparing a container's root filesystem: overlay layers, mount points, /dev, /etc files, fstab. */
import * as fs from 'node:fs';
import * as path from 'node:path';

const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];

/**
 * Resolves `target` inside the tree at `root` as a process chrooted there would, following
 * symlinks (absolute ones relative to `root`). Missing components are kept literally.
 */
export function resolveInRoot(root: string, target: string): string {
  const pending = target.split('/').filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (pending.length) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    let link: string | null = null;
    try {
      const host = path.join(root, ...done, part);
      if (fs.lstatSync(host).isSymbolicLink()) link = fs.readlinkSync(host);
    } catch {
      /* missing: keep literally */
    }
    if (link === null) {
      done.push(part);
      continue;
    }
    if (++hops > 40) throw new Error(`too many levels of symbolic links: ${target}`);
    if (link.startsWith('/')) done.length = 0;
    pending.unshift(...link.split('/').filter(Boolean));
  }
  return '/' + done.join('/');
}

function isExecutableFile(hostPath: string): boolean {
  try {
    const st = fs.statSync(hostPath);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** the error a container runtime reports when `command` cannot be started, or null if it can */
export function commandStartError(root: string, command: string, env: Record<string, string>, workingDir: string): string | null {
  const prefix = 'OCI runtime exec failed: exec failed: unable to start container process: exec: ';
  if (command.includes('/')) {
    const inRoot = resolveInRoot(root, path.posix.resolve(workingDir || '/', command));
    return isExecutableFile(path.join(root, inRoot)) ? null : `${prefix}"${command}": stat ${command}: no such file or directory: unknown`;
  }
  // without PATH, nsenter's execvp searches glibc's default path
  const dirs = (env.PATH ?? '/bin:/usr/bin').split(':').filter(Boolean);
  const found = dirs.some((dir) => isExecutableFile(path.join(root, resolveInRoot(root, path.posix.join(dir, command)))));
  return found ? null : `${prefix}"${command}": executable file not found in $PATH: unknown`;
}

/**
 * Creates `dir` (already resolved inside the image) in the upper layer. Directories that exist in
 * the image get its mode and owner: the merged directory takes the upper one's, and /tmp must stay 1777.
 */
export function ensureUpperDir(imageRoot: string, upper: string, dir: string): void {
  let rel = '';
  for (const part of dir.split('/').filter(Boolean)) {
    rel = path.join(rel, part);
    const target = path.join(upper, rel);
    if (fs.existsSync(target)) continue;
    fs.mkdirSync(target);
    try {
      const lower = fs.statSync(path.join(imageRoot, rel));
      if (!lower.isDirectory()) continue;
      fs.chmodSync(target, lower.mode & 0o7777);
      fs.chownSync(target, lower.uid, lower.gid);
    } catch {
      /* not in the image: a new root-owned 0755 directory */
    }
  }
}

/** /etc/hosts and /etc/hostname, written straight into the upper layer before it is mounted */
export function writePodIdentity(imageRoot: string, upper: string, hostname: string): void {
  const etc = resolveInRoot(imageRoot, '/etc');
  ensureUpperDir(imageRoot, upper, etc);
  const hosts = [
    '# Kubernetes-managed hosts file (emulated).',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    `127.0.1.1\t${hostname}`,
    '',
  ].join('\n');
  for (const [name, text] of [['hosts', hosts], ['hostname', `${hostname}\n`]]) {
    const file = path.join(upper, etc, name);
    fs.rmSync(file, { force: true });
    fs.writeFileSync(file, text, { mode: 0o644 });
  }
}

/**
 * The pod's /dev, bind-mounted (recursively) into every container: empty files that the sandbox
 * covers with bind mounts of the host's devices (no mknod needed, works on nodev file systems),
 * plus mount points for the pod's /dev/shm and /dev/pts.
 */
export function preparePodDev(devDir: string): Array<[source: string, target: string, type: string, options: string]> {
  fs.mkdirSync(path.join(devDir, 'shm'), { recursive: true });
  fs.mkdirSync(path.join(devDir, 'pts'));
  for (const dev of DEVICES) fs.writeFileSync(path.join(devDir, dev), '');
  const links: Record<string, string> = { fd: '/proc/self/fd', stdin: '/proc/self/fd/0', stdout: '/proc/self/fd/1', stderr: '/proc/self/fd/2', ptmx: 'pts/ptmx' };
  for (const [name, target] of Object.entries(links)) fs.symlinkSync(target, path.join(devDir, name));
  return [
    ...DEVICES.map((dev): [string, string, string, string] => [`/dev/${dev}`, path.join(devDir, dev), 'none', 'bind']),
    ['shm', path.join(devDir, 'shm'), 'tmpfs', 'nosuid,nodev,mode=1777,size=65536k'],
    ['devpts', path.join(devDir, 'pts'), 'devpts', 'newinstance,ptmxmode=0666,mode=0620'],
  ];
}

/** fstab(5) escapes whitespace and backslashes in the source and target fields as octal */
function fstabField(value: string): string {
  return value.replace(/[\s\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

export function renderFstab(entries: Array<[source: string, target: string, type: string, options: string]>): string {
  return entries.map(([src, dst, type, opts]) => `${fstabField(src)} ${fstabField(dst)} ${type} ${opts} 0 0\n`).join('');
}

/** overlayfs option values cannot escape these characters */
export function assertOverlaySafe(dir: string): void {
  if (/[\s,:\\]/.test(dir)) throw new Error(`path not usable as an overlay layer: ${JSON.stringify(dir)}`);
}
