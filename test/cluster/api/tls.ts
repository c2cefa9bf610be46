/** A self-signed CA and a server certificate for 127.0.0.1/localhost, made with the openssl CLI. */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TlsMaterial {
  /** PEM of the CA that signed `cert` (goes into the kubeconfig) */
  caCert: string;
  cert: string;
  key: string;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

const SERVER_EXTENSIONS = [
  'basicConstraints=CA:FALSE',
  'keyUsage=critical,digitalSignature,keyEncipherment',
  'extendedKeyUsage=serverAuth',
  'subjectAltName=IP:127.0.0.1,DNS:localhost',
].join('\n');

async function openssl(args: string[]): Promise<void> {
  await run('openssl', args);
}

/** Creates `<dir>/tls/{ca,server}.{crt,key}` once; later calls reuse them. */
export async function ensureTls(stateDir: string): Promise<TlsMaterial> {
  const dir = join(stateDir, 'tls');
  const file = (name: string) => join(dir, name);
  if (!existsSync(file('server.crt'))) {
    await mkdir(dir, { recursive: true });
    await openssl(['req', '-x509', ...EC_KEY, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '3650',
      '-subj', '/CN=wand-test-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    await openssl(['req', '-new', ...EC_KEY, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1']);
    await writeFile(file('server.ext'), SERVER_EXTENSIONS);
    await openssl(['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'),
      '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '3650', '-extfile', file('server.ext'), '-out', file('server.crt.tmp')]);
    // written last under its final name so a half-made set is never taken as complete
    await writeFile(file('server.crt'), await readFile(file('server.crt.tmp')));
  }
  const [caCert, cert, key] = await Promise.all(['ca.crt', 'server.crt', 'server.key'].map((n) => readFile(file(n), 'utf8')));
  return { caCert, cert, key };
}

export function randomToken(): string {
  return randomBytes(24).toString('base64url');
}
