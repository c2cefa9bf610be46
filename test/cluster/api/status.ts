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
