/**
 * Who is asking. The console is off unless a token or basic-auth users are configured; then every
 * request proves itself one of three ways:
 *
 * - a session cookie, set by `POST /login` after the person gives their name and the token — the
 *   name is who actions are recorded as (the cookie is HMAC-signed with a key that lives only in
 *   this process, HttpOnly, SameSite=Strict, and expires);
 * - HTTP basic auth with one of the configured users (the user name is the actor);
 * - `Authorization: Bearer <token>` for scripts, with the actor in `X-Floodgate-Actor`.
 *
 * Forms that change something carry a CSRF value derived from the actor and the process key; a
 * browser sends cookies and basic credentials on cross-site posts by itself, so both need it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface ConsoleAccess {
  /** Shared token (≥ 16 characters); people sign in with it and their name. */
  token?: string | undefined;
  /** Basic-auth users as name → password. */
  users?: Readonly<Record<string, string>> | undefined;
  /** How long a sign-in lasts. */
  sessionHours: number;
}

export interface Caller {
  actor: string;
  via: 'session' | 'basic' | 'bearer';
}

export const SESSION_COOKIE = 'floodgate_session';

const equal = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/** Parses `name:password,name2:password2` (CONSOLE_USERS); throws naming the bad entry. */
export function parseUsers(text: string): Record<string, string> {
  const users: Record<string, string> = {};
  for (const entry of text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const colon = entry.indexOf(':');
    const name = entry.slice(0, colon);
    if (colon <= 0 || !/^[\w.@-]{1,64}$/.test(name) || entry.length - colon - 1 < 12)
      throw new Error(
        `expected name:password entries (names of letters, digits, . _ @ -; passwords of 12+ characters), got "${colon > 0 ? `${name}:…` : entry.slice(0, 20)}"`,
      );
    users[name] = entry.slice(colon + 1);
  }
  return users;
}

/** A person's display name from the sign-in form: trimmed, printable, at most 64 characters. */
export function cleanActor(name: unknown): string {
  return String(name ?? '')
    .replace(/[^\p{L}\p{N} ._@-]/gu, '')
    .trim()
    .slice(0, 64);
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

function cookies(headers: Record<string, string | string[] | undefined>): Map<string, string> {
  const jar = new Map<string, string>();
  for (const part of header(headers, 'cookie').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) jar.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return jar;
}

export class Gate {
  /** Signs sessions and CSRF values; new at every start, so a restart signs everyone out. */
  private readonly key = randomBytes(32);
  private readonly access: ConsoleAccess;

  constructor(access: ConsoleAccess) {
    this.access = access;
  }

  get enabled(): boolean {
    return Boolean(this.access.token) || Object.keys(this.access.users ?? {}).length > 0;
  }

  get tokenSignIn(): boolean {
    return Boolean(this.access.token);
  }

  get basicUsers(): boolean {
    return Object.keys(this.access.users ?? {}).length > 0;
  }

  private sign(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64url');
  }

  /** The caller, or null when the request proves nothing. */
  check(headers: Record<string, string | string[] | undefined>, nowMs = Date.now()): Caller | null {
    if (!this.enabled) return null;
    const session = cookies(headers).get(SESSION_COOKIE);
    if (session) {
      const [payload = '', signature = ''] = session.split('.');
      if (equal(signature, this.sign(payload))) {
        try {
          const { n, e } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
            n: string;
            e: number;
          };
          if (typeof n === 'string' && n !== '' && e > nowMs) return { actor: n, via: 'session' };
        } catch {
          // A cookie that does not parse proves nothing.
        }
      }
    }
    const authorization = header(headers, 'authorization');
    const basic = /^Basic\s+(.+)$/i.exec(authorization);
    if (basic && this.access.users) {
      const decoded = Buffer.from(basic[1] ?? '', 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const name = decoded.slice(0, colon);
      const password = this.access.users[name];
      if (colon > 0 && password !== undefined && equal(decoded.slice(colon + 1), password))
        return { actor: name, via: 'basic' };
    }
    const bearer = /^Bearer\s+(.+)$/i.exec(authorization);
    if (bearer && this.access.token && equal(bearer[1] ?? '', this.access.token))
      return { actor: cleanActor(header(headers, 'x-floodgate-actor')) || 'api', via: 'bearer' };
    return null;
  }

  /** A Set-Cookie value for a person who gave the right token, or null when it is wrong. */
  signIn(name: string, token: string, nowMs = Date.now()): string | null {
    const actor = cleanActor(name);
    if (!this.access.token || actor === '' || !equal(token, this.access.token)) return null;
    const expires = nowMs + this.access.sessionHours * 3_600_000;
    const payload = Buffer.from(JSON.stringify({ n: actor, e: expires })).toString('base64url');
    return `${SESSION_COOKIE}=${payload}.${this.sign(payload)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(this.access.sessionHours * 3600)}`;
  }

  csrf(caller: Caller): string {
    return this.sign(`csrf\u0000${caller.via}\u0000${caller.actor}`).slice(0, 32);
  }

  /** Bearer callers are scripts (browsers never add that header by themselves); others need the form value. */
  csrfOk(caller: Caller, given: unknown): boolean {
    return caller.via === 'bearer' || (typeof given === 'string' && equal(given, this.csrf(caller)));
  }
}
