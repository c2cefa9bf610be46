/** Bearer-token users and their (tiny) authorization policy. */
import type { IncomingMessage } from 'node:http';
import { randomToken } from './tls';

export interface User {
  name: string;
  token: string;
  /** `verb resource[/subresource]` pairs this user is denied; everything else is allowed */
  denied: string[];
}

export interface AccessAttributes {
  verb: string;
  resource: string;
  subresource?: string;
}

/**
 * admin may do everything; noexec may not open exec or port-forward sessions; nodebug may exec and
 * port-forward but not add ephemeral containers (the usual "developer" role without `patch` on
 * pods/ephemeralcontainers).
 */
export function makeUsers(): { admin: User; noexec: User; nodebug: User } {
  return {
    admin: { name: 'admin', token: randomToken(), denied: [] },
    noexec: { name: 'noexec', token: randomToken(), denied: ['create pods/exec', 'create pods/portforward'] },
    nodebug: { name: 'nodebug', token: randomToken(), denied: ['patch pods/ephemeralcontainers', 'update pods/ephemeralcontainers'] },
  };
}

export function authenticate(req: IncomingMessage, users: User[]): User | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return match ? users.find((u) => u.token === match[1]) : undefined;
}

export function isAllowed(user: User, a: AccessAttributes): boolean {
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  return !user.denied.includes(`${a.verb} ${resource}`);
}
