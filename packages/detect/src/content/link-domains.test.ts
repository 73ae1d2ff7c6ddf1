import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { linkRegistrableDomain, listedRegistrableDomain, registrableDomain } from './link-domains.ts';

describe('linkRegistrableDomain', () => {
  // Paths differ per message and must not change the answer, but anything in the host part must.
  const scheme = fc.constantFrom('http://', 'https://', 'HTTPS://', 'ftp://', 'https:///', 'http:\\\\');
  const userinfo = fc.constantFrom('', 'user@', 'a:b@', '@');
  const host = fc.constantFrom(
    'bit.ly',
    'Secure.Login.Example.CO.UK',
    'evil.github.io',
    '192.168.0.1',
    'localhost',
    'xn--pypal-4ve.com',
    'pаypal.com',
    'example.com.',
    '',
    'bad_host!.com',
  );
  const port = fc.constantFrom('', ':8080', ':', ':x');
  const rest = fc.constantFrom('', '/', '/a/b', '?q=1', '#frag', '\\evil.com', '/x@other.com', '/\u0001');

  it('gives the same domain as registrableDomain for any link, however often asked', () => {
    fc.assert(
      fc.property(scheme, userinfo, host, port, rest, (s, u, h, p, r) => {
        const url = `${s}${u}${h}${p}${r}`;
        const expected = registrableDomain(url);
        expect(linkRegistrableDomain(url), url).toBe(expected);
        expect(linkRegistrableDomain(url), `${url} from the memo`).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('only looks at links with a scheme through the memo', () => {
    expect(linkRegistrableDomain('www.example.com/x')).toBe(registrableDomain('www.example.com/x'));
  });
});

describe('listedRegistrableDomain', () => {
  it('answers the same when memoised', () => {
    for (const hostname of ['bit.ly', 'file.txt', 'v1.2', 'evil.github.io', 'a.b.c.d.example.co.uk']) {
      const first = listedRegistrableDomain(hostname);
      expect(listedRegistrableDomain(hostname), hostname).toBe(first);
    }
    expect(listedRegistrableDomain('bit.ly')).toBe('bit.ly');
    expect(listedRegistrableDomain('file.txt')).toBeUndefined();
  });
});
