/**
 * The pods/ephemeralcontainers subresource (pkg/registry/core/pod/storage/storage.go
 * EphemeralContainersREST: get, patch, update). Only spec.ephemeralContainers of the body counts
 * (pkg/registry/core/pod/strategy.go dropNonEphemeralContainerUpdates); existing ones can be
 * neither removed nor changed, new ones are validated as the API server does
 * (pkg/apis/core/validation/validation.go ValidatePodEphemeralContainersUpdate,
 * validateEphemeralContainers), then Pod Security admission sees the whole pod.
 */
import type { EphemeralContainer, Pod } from './objects';
import { applyPatch } from './patch';
import { enforcePodSecurity } from './pod-security';
import { conflict, invalid, notFound, type FieldError } from './status';
import type { ObjectStore } from './store';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** fields a Container has that an EphemeralContainer may not set (validation.go validateEphemeralContainers) */
const FORBIDDEN_FIELDS = ['ports', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'resizePolicy', 'restartPolicy'] as const;

/** pkg/apis/core/v1/defaults.go (SetDefaults_Container and friends), for what kubectl leaves out */
function withDefaults(c: EphemeralContainer): EphemeralContainer {
  const tag = c.image?.includes('@') ? 'digest' : (c.image?.split('/').pop() ?? '').split(':')[1] ?? 'latest';
  return {
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: tag === 'latest' ? 'Always' : 'IfNotPresent',
    ...c,
  } as EphemeralContainer;
}

function sameJson(a: unknown, b: unknown): boolean {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canonical) : v && typeof v === 'object'
      ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).sort(([x], [y]) => x.localeCompare(y)).map(([k, x]) => [k, canonical(x)]))
      : v;
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function validateUpdate(old: Pod, next: EphemeralContainer[]): FieldError[] {
  const errors: FieldError[] = [];
  const path = 'spec.ephemeralContainers';
  const byName = new Map(next.map((c) => [c.name, c]));
  for (const existing of old.spec.ephemeralContainers ?? []) {
    const updated = byName.get(existing.name);
    if (!updated) errors.push({ type: 'FieldValueForbidden', field: path, detail: `Forbidden: existing ephemeral containers "${existing.name}" may not be removed\n` });
    else if (!sameJson(existing, updated)) errors.push({ type: 'FieldValueForbidden', field: path, detail: `Forbidden: existing ephemeral containers "${existing.name}" may not be changed\n` });
  }
  const taken = new Set([...old.spec.containers, ...((old.spec as { initContainers?: Array<{ name: string }> }).initContainers ?? [])].map((c) => c.name));
  const targets = new Set(taken);
  next.forEach((c, i) => {
    const at = `${path}[${i}]`;
    if (!c.name) errors.push({ type: 'FieldValueRequired', field: `${at}.name`, detail: 'Required value' });
    else if (!DNS1123_LABEL.test(c.name) || c.name.length > 63) {
      errors.push({ type: 'FieldValueInvalid', field: `${at}.name`, detail: `Invalid value: "${c.name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')` });
    } else if (taken.has(c.name)) errors.push({ type: 'FieldValueDuplicate', field: `${at}.name`, detail: `Duplicate value: "${c.name}"` });
    else taken.add(c.name);
    if (!c.image) errors.push({ type: 'FieldValueRequired', field: `${at}.image`, detail: 'Required value' });
    if (c.targetContainerName && !targets.has(c.targetContainerName)) {
      errors.push({ type: 'FieldValueNotFound', field: `${at}.targetContainerName`, detail: `Not found: "${c.targetContainerName}"` });
    }
    for (const field of FORBIDDEN_FIELDS) {
      if ((c as unknown as Record<string, unknown>)[field] !== undefined) {
        errors.push({ type: 'FieldValueForbidden', field: `${at}.${field}`, detail: 'Forbidden: cannot be set for an Ephemeral Container' });
      }
    }
  });
  return errors;
}

export interface EphemeralRequest {
  method: string;
  namespace: string;
  name: string;
  body: unknown;
  contentType: string | undefined;
}

/** GET, PATCH or PUT of pods/NAME/ephemeralcontainers; returns the pod as stored afterwards. */
export function serveEphemeralContainers(store: ObjectStore, req: EphemeralRequest): Pod {
  const current = store.get('Pod', req.namespace, req.name);
  if (!current) throw notFound('pods', '', req.name);
  if (req.method === 'GET') return current;
  const proposed = (req.method === 'PATCH' ? applyPatch(current, req.body, req.contentType) : req.body) as Partial<Pod>;
  const wantedVersion = proposed.metadata?.resourceVersion;
  if (wantedVersion && wantedVersion !== current.metadata.resourceVersion) {
    throw conflict('pods', '', req.name, 'the object has been modified; please apply your changes to the latest version and try again');
  }
  const next = (proposed.spec?.ephemeralContainers ?? []).map(withDefaults);
  const errors = validateUpdate(current, next);
  if (errors.length) throw invalid('Pod', req.name, errors);
  const namespace = store.get('Namespace', undefined, req.namespace);
  enforcePodSecurity(namespace?.metadata.labels, req.name, { ...current.spec, ephemeralContainers: next });
  const updated = store.update('Pod', req.namespace, req.name, (pod) => {
    pod.spec.ephemeralContainers = next;
  });
  if (!updated) throw notFound('pods', '', req.name);
  return updated;
}
