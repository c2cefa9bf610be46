/**
 * Test images: Debian testing root filesystems built with debootstrap, cached on disk and keyed by
 * everything that goes into them, so a rebuild happens only when the recipe changes.
 *
 * One base root filesystem holds every package; each image is a copy of it, trimmed or re-pointed
 * (the slim image loses debugpy and procps, the 3.13 image points python3 at python3.13).
 *
 * Python 3.8-3.12 targets (the ptrace injector's versions, and 3.8 as too old) come from a second
 * base, Debian 12: its own python3 is 3.11 (with Flask and uvicorn from Debian), and the others are
 * the pyenv interpreters this machine kind ships (/root/.pyenv/versions, shared libpython with a
 * RUNPATH into that directory, so they are copied to the same path) set as python3. Each base has
 * its own cache key, so adding these images leaves the testing-based ones where they are.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const SUITE = 'testing';
const BASE_PACKAGES = [
  'python3',
  'python3.13',
  'python3-debugpy',
  'python3-uvicorn',
  'python3-watchfiles',
  'python3-fastapi',
  'python3-flask',
  'python3-django',
  'gunicorn',
  'procps',
  'tini',
  'dumb-init',
];

/** Debian testing has no fastapi-cli: this shim gives `fastapi dev` the real process tree. */
const FASTAPI_CLI_SHIM = `#!/usr/bin/python3
import os, sys, uvicorn
def main():
    args = sys.argv[1:]
    if not args or args[0] not in ("dev", "run") or len(args) < 2:
        sys.exit("usage: fastapi dev|run FILE.py [--host H] [--port P]")
    mode, module = args[0], args[1].removesuffix(".py").replace("/", ".")
    opts = dict(zip(args[2::2], args[3::2]))
    uvicorn.run(f"{module}:app", host=opts.get("--host", "127.0.0.1"),
                port=int(opts.get("--port", "8000")), reload=(mode == "dev"), app_dir=os.getcwd())
if __name__ == "__main__":
    main()
`;

/** Debian 12: python3 is 3.11; apps for the pyenv interpreters use the standard library only. */
const BOOKWORM_PACKAGES = ['python3', 'python3-flask', 'python3-uvicorn', 'procps'];

type BaseName = 'testing' | 'bookworm';
const BASES: Record<BaseName, { suite: string; packages: string[] }> = {
  testing: { suite: SUITE, packages: BASE_PACKAGES },
  bookworm: { suite: 'bookworm', packages: BOOKWORM_PACKAGES },
};

interface ImageRecipe {
  /** what derive does, in words: part of the cache key (change it when derive changes) */
  recipe: string;
  /** shell-free steps applied inside a copy of the base root */
  derive: (root: string) => Promise<void>;
  /** the base root filesystem (default: testing) */
  base?: BaseName;
}

const PYENV_VERSIONS = process.env.WAND_PYENV ?? '/root/.pyenv/versions';

/** The newest pyenv build of `minor` ("3.9" -> "3.9.18"), or undefined. */
function pyenvVersion(minor: string): string | undefined {
  if (!existsSync(PYENV_VERSIONS)) return undefined;
  return readdirSync(PYENV_VERSIONS)
    .filter((v) => v.startsWith(`${minor}.`) && /^\d+\.\d+\.\d+$/.test(v))
    .sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2]))
    .pop();
}

/** A Debian 12 image whose python3 is the pyenv build of `minor`, copied to its own path. */
function pyenvImage(minor: string): ImageRecipe {
  const version = pyenvVersion(minor);
  return {
    base: 'bookworm',
    recipe: `bookworm + pyenv ${version ?? `${minor} (missing)`} at its own path, python3 -> it`,
    derive: async (root) => {
      if (!version) throw new Error(`no pyenv Python ${minor} in ${PYENV_VERSIONS}: this image needs the machine's pyenv builds`);
      const home = path.join(root, PYENV_VERSIONS, version);
      await fs.mkdir(path.dirname(home), { recursive: true });
      await run('cp', ['-a', '--reflink=auto', path.join(PYENV_VERSIONS, version), home]);
      // /root is 0700 in Debian: any user of the pod must reach the interpreter
      for (let dir = path.dirname(home); dir.startsWith(root) && dir !== root; dir = path.dirname(dir)) await fs.chmod(dir, 0o755);
      const binary = path.join(PYENV_VERSIONS, version, 'bin', `python${minor}`);
      for (const link of ['usr/bin/python3', `usr/local/bin/python${minor}`, 'usr/local/bin/python3']) {
        await fs.rm(path.join(root, link), { force: true });
        await fs.symlink(binary, path.join(root, link));
      }
    },
  };
}

const RECIPES: Record<string, ImageRecipe> = {
  'wand-test/python:3.14': { recipe: 'base', derive: async () => undefined },
  'wand-test/python:3.14-slim': {
    recipe: 'base - debugpy procps django gunicorn tini dumb-init',
    derive: async (root) => {
      await run('chroot', [root, 'dpkg', '--purge', '--force-depends', 'python3-debugpy', 'procps',
        'python3-django', 'gunicorn', 'tini', 'dumb-init']);
    },
  },
  'wand-test/python:3.13': {
    recipe: 'base, python3 -> python3.13',
    derive: async (root) => {
      await fs.rm(path.join(root, 'usr/bin/python3'));
      await fs.symlink('python3.13', path.join(root, 'usr/bin/python3'));
    },
  },
  'wand-test/python:3.11': { base: 'bookworm', recipe: 'bookworm', derive: async () => undefined },
  'wand-test/python:3.12': pyenvImage('3.12'),
  'wand-test/python:3.10': pyenvImage('3.10'),
  'wand-test/python:3.9': pyenvImage('3.9'),
  'wand-test/python:3.8': pyenvImage('3.8'),
};

function baseOf(image: string): BaseName {
  return RECIPES[image]?.base ?? 'testing';
}

export const IMAGE_NAMES = Object.keys(RECIPES);

export function imageCacheDir(): string {
  return process.env.WAND_IMAGE_CACHE ?? '/var/cache/kubectl-wand/images';
}

/**
 * Changes whenever anything that shapes the images changes. Built from data only: function source
 * text differs between the TypeScript loaders (tsx, ts-jest) and would split the cache.
 */
function recipeKey(base: BaseName): string {
  const images = Object.entries(RECIPES).filter(([n]) => baseOf(n) === base).map(([n, r]) => [n, r.recipe]);
  const recipe = base === 'testing'
    ? JSON.stringify({ SUITE, BASE_PACKAGES, FASTAPI_CLI_SHIM, images })
    : JSON.stringify({ base: BASES[base], images });
  return createHash('sha256').update(recipe).digest('hex').slice(0, 12);
}

function imageDirName(image: string): string {
  return image.replace(/[/:]/g, '_');
}

export function imageRoot(image: string): string {
  if (!RECIPES[image]) {
    throw new Error(`image "${image}" is not a test image (known: ${IMAGE_NAMES.join(', ')})`);
  }
  return path.join(imageCacheDir(), recipeKey(baseOf(image)), imageDirName(image));
}

/** The Debian mirror the machine itself uses (name no host in the repository). */
export function debianMirror(): string {
  const candidates = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'];
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const uri = text.match(/^URIs:\s*(\S+\/debian)\/?\s*$/m) ?? text.match(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s/m);
    if (uri) return uri[1];
  }
  throw new Error('no Debian mirror found in the apt sources of this machine');
}

async function buildBase(dir: string, base: BaseName, log: (line: string) => void): Promise<void> {
  const tmp = `${dir}.partial`;
  const { suite, packages } = BASES[base];
  await fs.rm(tmp, { recursive: true, force: true });
  log(`debootstrap ${suite} into ${tmp} (about a minute)`);
  await run('debootstrap', ['--variant=minbase', `--include=${packages.join(',')}`, suite, tmp, debianMirror()],
    { maxBuffer: 64 * 1024 * 1024 });
  await addAppUser(tmp);
  if (base === 'testing') await fs.writeFile(path.join(tmp, 'usr/local/bin/fastapi'), FASTAPI_CLI_SHIM, { mode: 0o755 });
  await fs.rm(path.join(tmp, 'var/cache/apt/archives'), { recursive: true, force: true });
  await fs.rename(tmp, dir);
}

/** uid/gid 1000 "app" for runAsUser tests, as most application images have. */
async function addAppUser(root: string): Promise<void> {
  await fs.appendFile(path.join(root, 'etc/passwd'), 'app:x:1000:1000:app:/home/app:/bin/sh\n');
  await fs.appendFile(path.join(root, 'etc/group'), 'app:x:1000:\n');
  await fs.mkdir(path.join(root, 'home/app'), { recursive: true });
  await fs.chown(path.join(root, 'home/app'), 1000, 1000);
}

async function deriveImage(base: string, image: string, log: (line: string) => void): Promise<void> {
  const dir = imageRoot(image);
  const tmp = `${dir}.partial`;
  log(`deriving ${image}`);
  await fs.rm(tmp, { recursive: true, force: true });
  await run('cp', ['-a', '--reflink=auto', base, tmp]);
  await RECIPES[image].derive(tmp);
  await fs.rename(tmp, dir);
}

/** Builds whatever is missing; returns image name → root filesystem. */
export async function ensureImages(log: (line: string) => void = () => undefined): Promise<Record<string, string>> {
  for (const name of Object.keys(BASES) as BaseName[]) {
    const keyDir = path.join(imageCacheDir(), recipeKey(name));
    const base = path.join(keyDir, 'base');
    const missing = IMAGE_NAMES.filter((image) => baseOf(image) === name && !existsSync(imageRoot(image)));
    if (missing.length === 0) continue;
    await fs.mkdir(keyDir, { recursive: true });
    if (!existsSync(base)) await buildBase(base, name, log);
    for (const image of missing) await deriveImage(base, image, log);
  }
  return Object.fromEntries(IMAGE_NAMES.map((image) => [image, imageRoot(image)]));
}
