/** Reads Kubernetes YAML (a file or a directory of them, multi-document) into plain objects. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

const SUPPORTED_KINDS = new Set(['Namespace', 'ConfigMap', 'Pod', 'Deployment', 'Service']);
/** Namespaces first, so objects always land in an existing namespace. */
const APPLY_ORDER = ['Namespace', 'ConfigMap', 'Service', 'Deployment', 'Pod'];

async function manifestFiles(fileOrDir: string): Promise<string[]> {
  const stat = await fs.stat(fileOrDir);
  if (!stat.isDirectory()) return [fileOrDir];
  const names = (await fs.readdir(fileOrDir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  return names.map((n) => path.join(fileOrDir, n));
}

function toManifestObject(doc: unknown, file: string): ManifestObject {
  const obj = doc as Partial<ManifestObject> | null;
  if (!obj || typeof obj.kind !== 'string' || !obj.metadata?.name) {
    throw new Error(`${file}: every document needs kind and metadata.name`);
  }
  if (!SUPPORTED_KINDS.has(obj.kind)) {
    throw new Error(`${file}: kind ${obj.kind} is not supported by the test cluster`);
  }
  return obj as ManifestObject;
}

export async function loadManifests(fileOrDir: string): Promise<ManifestObject[]> {
  const objects: ManifestObject[] = [];
  for (const file of await manifestFiles(fileOrDir)) {
    const docs = parseAllDocuments(await fs.readFile(file, 'utf8'));
    for (const doc of Array.isArray(docs) ? docs : [docs]) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
      const value: unknown = doc.toJS();
      if (value !== null && value !== undefined) objects.push(toManifestObject(value, file));
    }
  }
  return objects.sort((a, b) => APPLY_ORDER.indexOf(a.kind) - APPLY_ORDER.indexOf(b.kind));
}
