/** metav1.Status replies, worded as a real API server words them (kubectl prints the message). */
import type { Status } from './objects';

export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
  }
}

function failure(code: number, reason: string, message: string, details?: Status['details']): ApiError {
  return new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code });
}

/** `pods "nope"`, `deployments.apps "web"` */
function qualified(resource: string, group: string, name: string): string {
  return `${group ? `${resource}.${group}` : resource} "${name}"`;
}

export function notFound(resource: string, group: string, name: string): ApiError {
  return failure(404, 'NotFound', `${qualified(resource, group, name)} not found`, { name, group: group || undefined, kind: resource });
}

export function pathNotFound(): ApiError {
  return failure(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function badRequest(message: string): ApiError {
  return failure(400, 'BadRequest', message);
}

export function methodNotAllowed(method: string): ApiError {
  return failure(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${method})`);
}

export function unauthorized(): ApiError {
  return failure(401, 'Unauthorized', 'Unauthorized');
}

export function internalError(message: string): ApiError {
  return failure(500, 'InternalError', `Internal error occurred: ${message}`);
}

export function gone(message: string): ApiError {
  return failure(410, 'Expired', message);
}

export interface Attempt {
  user: string;
  verb: string;
  resource: string;
  subresource?: string;
  group: string;
  namespace?: string;
  name?: string;
}

export function forbidden(a: Attempt): ApiError {
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const subject = a.name ? qualified(a.resource, a.group, a.name) : a.resource;
  const where = a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
  const message = `${subject} is forbidden: User "${a.user}" cannot ${a.verb} resource "${resource}" in API group "${a.group}"${where}`;
  return failure(403, 'Forbidden', message, { name: a.name, group: a.group || undefined, kind: a.resource });
}

/** apimachinery api/errors NewForbidden(resource, name, err): `pods "x" is forbidden: <err>` */
export function forbiddenBy(resource: string, group: string, name: string, message: string): ApiError {
  return failure(403, 'Forbidden', `${qualified(resource, group, name)} is forbidden: ${message}`, { name, group: group || undefined, kind: resource });
}

export interface FieldError {
  /** field.ErrorType: `FieldValueForbidden`, `FieldValueNotFound`, … */
  type: string;
  field: string;
  /** the text after the field: `Forbidden: …`, `Not found: "x"` */
  detail: string;
}

/**
 * apimachinery api/errors NewInvalid: 422 `Pod "x" is invalid: <field>: <detail>`, several joined as
 * utilerrors.NewAggregate prints them (`[a, b]`).
 */
export function invalid(kind: string, name: string, errors: FieldError[]): ApiError {
  const texts = errors.map((e) => `${e.field}: ${e.detail}`);
  const message = `${kind} "${name}" is invalid: ${texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`}`;
  const status = {
    kind: 'Status' as const, apiVersion: 'v1' as const, metadata: {}, status: 'Failure' as const, message, reason: 'Invalid', code: 422,
    details: { name, kind, causes: errors.map((e) => ({ reason: e.type, message: e.detail, field: e.field })) },
  };
  return new ApiError(status as never);
}

export function conflict(resource: string, group: string, name: string, message: string): ApiError {
  return failure(409, 'Conflict', `Operation cannot be fulfilled on ${group ? `${resource}.${group}` : resource} "${name}": ${message}`, { name, group: group || undefined, kind: resource });
}
