import { describe, expect, it } from 'vitest';
import { cleanActor, Gate, parseUsers, SESSION_COOKIE } from './auth.ts';

const TOKEN = 'a-console-token-of-enough-length';
const cookieHeader = (setCookie: string) => ({ cookie: setCookie.split(';')[0] ?? '' });

describe('console access', () => {
  it('is off without a token or users, and then accepts nothing', () => {
    const gate = new Gate({ sessionHours: 1 });
    expect(gate.enabled).toBe(false);
    expect(gate.check({ authorization: `Bearer ${TOKEN}` })).toBeNull();
  });

  it('signs a person in with their name and the token; the cookie names them until it expires', () => {
    const gate = new Gate({ token: TOKEN, sessionHours: 2 });
    expect(gate.signIn('alice', 'wrong-token-wrong-token')).toBeNull();
    expect(gate.signIn('   ', TOKEN)).toBeNull();
    const cookie = gate.signIn('alice', TOKEN, 1_000) as string;
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(gate.check(cookieHeader(cookie), 2_000)).toEqual({ actor: 'alice', via: 'session' });
    expect(gate.check(cookieHeader(cookie), 1_000 + 2 * 3_600_000 + 1)).toBeNull();
  });

  it('refuses a session cookie that was altered or signed by another process', () => {
    const gate = new Gate({ token: TOKEN, sessionHours: 2 });
    const cookie = gate.signIn('alice', TOKEN) as string;
    const value = cookie.split(';')[0]?.split('=')[1] ?? '';
    const [, signature] = value.split('.');
    const forged = Buffer.from(JSON.stringify({ n: 'mallory', e: Date.now() + 3_600_000 })).toString(
      'base64url',
    );
    expect(gate.check({ cookie: `${SESSION_COOKIE}=${forged}.${signature}` })).toBeNull();
    expect(new Gate({ token: TOKEN, sessionHours: 2 }).check(cookieHeader(cookie))).toBeNull();
  });

  it('accepts basic auth for configured users and bearer tokens for scripts', () => {
    const gate = new Gate({ token: TOKEN, users: { bob: 'bobs-long-password' }, sessionHours: 1 });
    const basic = (user: string, password: string) => ({
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    });
    expect(gate.check(basic('bob', 'bobs-long-password'))).toEqual({ actor: 'bob', via: 'basic' });
    expect(gate.check(basic('bob', 'bobs-long-passwore'))).toBeNull();
    expect(gate.check(basic('eve', 'bobs-long-password'))).toBeNull();
    expect(gate.check({ authorization: `Bearer ${TOKEN}`, 'x-floodgate-actor': 'runbook-bot' })).toEqual({
      actor: 'runbook-bot',
      via: 'bearer',
    });
    expect(gate.check({ authorization: `Bearer ${TOKEN}` })).toEqual({ actor: 'api', via: 'bearer' });
    expect(gate.check({ authorization: 'Bearer nope' })).toBeNull();
  });

  it('requires the CSRF value of the same caller on forms, except for bearer scripts', () => {
    const gate = new Gate({ token: TOKEN, sessionHours: 1 });
    const alice = { actor: 'alice', via: 'session' } as const;
    const bob = { actor: 'bob', via: 'session' } as const;
    expect(gate.csrfOk(alice, gate.csrf(alice))).toBe(true);
    expect(gate.csrfOk(alice, gate.csrf(bob))).toBe(false);
    expect(gate.csrfOk(alice, undefined)).toBe(false);
    expect(gate.csrfOk({ actor: 'api', via: 'bearer' }, undefined)).toBe(true);
  });

  it('parses users and names the bad entry', () => {
    expect(parseUsers('alice:alices-password-1, bob:bobs-password-22')).toEqual({
      alice: 'alices-password-1',
      bob: 'bobs-password-22',
    });
    expect(() => parseUsers('alice:short')).toThrow(/alice:…/);
    expect(() => parseUsers('no-colon-here')).toThrow(/no-colon-here/);
  });

  it('keeps display names printable and short', () => {
    expect(cleanActor('  Alice <script>  ')).toBe('Alice script');
    expect(cleanActor('x'.repeat(100))).toHaveLength(64);
  });
});
