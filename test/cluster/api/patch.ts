/**
 * PATCH bodies as the API server applies them: JSON merge patch (RFC 7386), strategic merge patch
 * (apimachinery pkg/util/strategicpatch/patch.go) for the pod fields kubectl touches, and JSON
 * patch (RFC 6902). Unknown content types get the API server's 415.
 */
import { ApiError } from './status';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

/**
 * Lists merged by a key in strategic merge patches: the patchMergeKey tags of k8s.io/api/core/v1
 * types.go (PodSpec.containers/initContainers/ephemeralContainers/volumes by name, Container.env
 * by name, volumeMounts by mountPath, ports by containerPort). Every other list is replaced.
 */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  ownerReferences: 'uid',
};

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unsupportedMediaType(contentType: string): ApiError {
  return new ApiError({
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 415, reason: 'UnsupportedMediaType',
    message: `the body of the request was in an unknown format - accepted media types include: ${JSON_PATCH}, ${MERGE_PATCH}, ${STRATEGIC_MERGE_PATCH}, ${APPLY_PATCH}`,
  });
}

/** The media type without parameters (`application/merge-patch+json; charset=utf-8`). */
export function patchType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

/** Applies a patch of the given content type to a copy of target. */
export function applyPatch(target: unknown, patch: unknown, contentType: string | undefined): unknown {
  const type = patchType(contentType);
  const original = structuredClone(target) as Json;
  switch (type) {
    case MERGE_PATCH:
      return mergePatch(original, patch as Json);
    case STRATEGIC_MERGE_PATCH:
      return strategicMerge(original, patch as Json, '');
    case JSON_PATCH:
      return jsonPatch(original, patch as Json);
    default:
      throw unsupportedMediaType(type);
  }
}

/** RFC 7386: objects merge recursively, null deletes, anything else (lists too) replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

/**
 * Strategic merge: like a merge patch, but lists with a merge key merge element by element, and
 * the directives `$patch` (replace/delete/merge), `$setElementOrder/<list>`, `$retainKeys` and
 * `$deleteFromPrimitiveList/<list>` are honoured (strategicpatch/patch.go mergeMap/mergeSlice).
 */
function strategicMerge(target: Json, patch: Json, field: string): Json {
  if (Array.isArray(patch)) return mergeList(Array.isArray(target) ? target : [], patch, field);
  if (!isObject(patch)) return structuredClone(patch);
  const directive = patch.$patch;
  if (directive === 'replace') {
    const { $patch: _omit, ...rest } = patch;
    return structuredClone(rest);
  }
  if (directive === 'delete') return null;
  let result: JsonObject = isObject(target) ? { ...target } : {};
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys as string[]);
    result = Object.fromEntries(Object.entries(result).filter(([k]) => keep.has(k)));
  }
  const orders: Record<string, Json[]> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith('$setElementOrder/')) {
      orders[key.slice('$setElementOrder/'.length)] = value as Json[];
      continue;
    }
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const list = key.slice('$deleteFromPrimitiveList/'.length);
      const remove = new Set((value as Json[]).map((v) => JSON.stringify(v)));
      const current = result[list];
      if (Array.isArray(current)) result[list] = current.filter((v) => !remove.has(JSON.stringify(v)));
      continue;
    }
    if (value === null) delete result[key];
    else {
      const merged = strategicMerge(result[key] ?? null, value, key);
      if (merged === null) delete result[key];
      else result[key] = merged;
    }
  }
  for (const [list, order] of Object.entries(orders)) {
    const current = result[list];
    if (Array.isArray(current)) result[list] = reorder(current, order, MERGE_KEYS[list]);
  }
  return result;
}

function mergeList(target: Json[], patch: Json[], field: string): Json[] {
  const key = MERGE_KEYS[field];
  if (!key || !patch.every(isObject)) return structuredClone(patch);
  if (patch.some((item) => (item as JsonObject).$patch === 'replace' && Object.keys(item as JsonObject).length === 1)) {
    return patch.filter((item) => !((item as JsonObject).$patch === 'replace')).map((item) => structuredClone(item));
  }
  const result = target.map((item) => structuredClone(item));
  for (const item of patch as JsonObject[]) {
    const index = result.findIndex((existing) => isObject(existing) && existing[key] === item[key]);
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = strategicMerge(result[index], item, '');
    } else {
      const { $patch: _omit, ...added } = item;
      result.push(structuredClone(added));
    }
  }
  return result;
}

/** `$setElementOrder`: elements named there come first in that order, the rest keep theirs. */
function reorder(list: Json[], order: Json[], key: string | undefined): Json[] {
  if (!key) return list;
  const position = (item: Json): number => {
    const i = order.findIndex((o) => isObject(o) && isObject(item) && o[key] === item[key]);
    return i < 0 ? order.length : i;
  };
  return [...list].sort((a, b) => position(a) - position(b));
}

/** RFC 6902 with RFC 6901 pointers: add, remove, replace, move, copy, test. */
function jsonPatch(target: Json, operations: Json): Json {
  if (!Array.isArray(operations)) throw invalidJsonPatch('the patch is not a list of operations');
  let doc = target;
  for (const op of operations) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') throw invalidJsonPatch('malformed operation');
    const { path } = op;
    switch (op.op) {
      case 'add':
        doc = pointerSet(doc, path, op.value ?? null, 'add');
        break;
      case 'replace':
        doc = pointerSet(doc, path, op.value ?? null, 'replace');
        break;
      case 'remove':
        doc = pointerSet(doc, path, undefined, 'remove');
        break;
      case 'copy':
      case 'move': {
        const from = String(op.from ?? '');
        const value = pointerGet(doc, from);
        if (op.op === 'move') doc = pointerSet(doc, from, undefined, 'remove');
        doc = pointerSet(doc, path, structuredClone(value), 'add');
        break;
      }
      case 'test':
        if (JSON.stringify(pointerGet(doc, path)) !== JSON.stringify(op.value)) throw invalidJsonPatch(`testing value ${path} failed`);
        break;
      default:
        throw invalidJsonPatch(`Unexpected kind: ${op.op}`);
    }
  }
  return doc;
}

function invalidJsonPatch(message: string): ApiError {
  return new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 422, reason: 'Invalid', message });
}

function tokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw invalidJsonPatch(`invalid JSON pointer ${pointer}`);
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function pointerGet(doc: Json, pointer: string): Json {
  let node: Json | undefined = doc;
  for (const t of tokens(pointer)) {
    node = Array.isArray(node) ? node[Number(t)] : isObject(node) ? node[t] : undefined;
    if (node === undefined) throw invalidJsonPatch(`doc is missing path: "${pointer}"`);
  }
  return node;
}

function pointerSet(doc: Json, pointer: string, value: Json | undefined, mode: 'add' | 'replace' | 'remove'): Json {
  const path = tokens(pointer);
  if (path.length === 0) return value ?? null;
  const parent = pointerGet(doc, `/${path.slice(0, -1).map((t) => t.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`.replace(/^\/$/, ''));
  const last = path[path.length - 1];
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length) throw invalidJsonPatch(`doc is missing path: "${pointer}"`);
    if (mode === 'add') parent.splice(index, 0, value ?? null);
    else if (index >= parent.length) throw invalidJsonPatch(`doc is missing path: "${pointer}"`);
    else if (mode === 'replace') parent[index] = value ?? null;
    else parent.splice(index, 1);
  } else if (isObject(parent)) {
    if (mode !== 'add' && !(last in parent)) throw invalidJsonPatch(`doc is missing path: "${pointer}"`);
    if (mode === 'remove') delete parent[last];
    else parent[last] = value ?? null;
  } else {
    throw invalidJsonPatch(`doc is missing path: "${pointer}"`);
  }
  return doc;
}
