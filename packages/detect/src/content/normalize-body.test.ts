import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collapseWhitespace, templateOf } from './normalize-body.ts';

describe('templateOf: links', () => {
  it('masks a URL to its registrable domain in the template and hides its path in the masked body', () => {
    const result = templateOf('Pay now: https://secure-login.usps-track.co.uk/a/b?x=1 thanks');
    expect(result.template).toBe('pay now: <url:usps-track.co.uk> thanks');
    expect(result.maskedBody).toBe('Pay now: https://usps-track.co.uk/<path> thanks');
    expect(result.linkDomains).toEqual(['usps-track.co.uk']);
  });

  it('treats bare domains with a listed suffix as links', () => {
    const result = templateOf('See bit.ly/abc or example.com/path, or WWW.Example.COM.');
    expect(result.template).toBe('see <url:bit.ly> or <url:example.com>, or <url:example.com>.');
    expect(result.maskedBody).toBe('See bit.ly/<path> or example.com/<path>, or example.com.');
    expect(result.linkDomains, 'domains are distinct and in order of appearance').toEqual([
      'bit.ly',
      'example.com',
    ]);
  });

  it('keeps a separate registrant on a shared-hosting suffix distinct', () => {
    expect(templateOf('https://evil.github.io/login').linkDomains).toEqual(['evil.github.io']);
  });

  it('does not take file names, versions or abbreviations for links', () => {
    const result = templateOf('Open file.txt, update to v1.2.3, e.g. now');
    expect(result.linkDomains).toEqual([]);
    expect(result.template).not.toContain('<url');
  });

  it('leaves sentence punctuation after a link outside it', () => {
    const result = templateOf('Go to (https://x.example.com/a/b).');
    expect(result.maskedBody).toBe('Go to (https://example.com/<path>).');
  });

  it('finds a link glued to the previous word and one behind a rejected dotted word', () => {
    expect(templateOf('CLICKhttps://evil.com/x').linkDomains).toEqual(['evil.com']);
    expect(templateOf('Visit.https://evil.com/x').linkDomains).toEqual(['evil.com']);
  });

  it('shows no path marker for a link without a path', () => {
    expect(templateOf('https://bank.com/ or https://bank.com').maskedBody).toBe(
      'https://bank.com or https://bank.com',
    );
  });

  it('falls back to the host for IP links and to a bare placeholder when there is no host', () => {
    const result = templateOf('http://192.168.0.1:8080/login and http://)');
    expect(result.template).toBe('<url:192.168.0.1> and <url>)');
    expect(result.maskedBody).toBe('http://192.168.0.1/<path> and <url>)');
  });

  it('writes domains in DNS form: a look-alike shows as what it is, an IDN has one spelling', () => {
    // Cyrillic а in the host: not paypal.com, and not shown as something that reads like it.
    expect(templateOf('https://pаypal.com/x').linkDomains).toEqual(['xn--pypal-4ve.com']);
    expect(templateOf('Login at https://пример.рф/a').template).toBe(
      templateOf('Login at https://xn--e1afmkfd.xn--p1ai/a').template,
    );
    expect(templateOf('See bücher.de today').linkDomains).toEqual(['xn--bcher-kva.de']);
  });

  it('masks the paths of odd but working link forms: a root dot, backslashes', () => {
    for (const [body, masked] of [
      ['Reset at evil.com./r/t0ken-Abc', 'Reset at evil.com/<path>'],
      ['Reset at evil.com\\r\\t0kenAbc now', 'Reset at evil.com/<path> now'],
      ['Reset at https://evil.com\\r\\tokenAbc', 'Reset at https://evil.com/<path>'],
      ['Reset at shop.com.:8443/tokenAbc', 'Reset at shop.com/<path>'],
    ] as const)
      expect(templateOf(body).maskedBody, body).toBe(masked);
    // A sentence's full stop after a host stays one.
    expect(templateOf('Visit shop.com. Then pay').maskedBody).toBe('Visit shop.com. Then pay');
  });

  it('reads a scheme followed by one slash or by backslashes as a link, as browsers do', () => {
    // new URL() (and every browser) skips any run of / and \ after http(s):, so these open evil.com.
    for (const [body, masked] of [
      ['Pay at https:/evil-toll.com/t0kenAbc now', 'Pay at https:/evil-toll.com/<path> now'],
      ['Pay at HTTPS:/EVIL-toll.COM/t0kenAbc', 'Pay at HTTPS:/evil-toll.com/<path>'],
      ['Pay at https:\\evil-toll.com\\t0kenAbc', 'Pay at https:\\evil-toll.com/<path>'],
      ['Pay at http:///evil-toll.com', 'Pay at http:///evil-toll.com'],
    ] as const) {
      expect(new URL(body.split(' ')[2] as string).hostname.toLowerCase(), body).toBe('evil-toll.com');
      expect(templateOf(body).linkDomains, body).toEqual(['evil-toll.com']);
      expect(templateOf(body).maskedBody, body).toBe(masked);
    }
    // One template with the two-slash form: a variant is not a new template.
    expect(templateOf('Pay at https:/evil-toll.com/abc').template).toBe(
      templateOf('Pay at https://evil-toll.com/xyz').template,
    );
    // A colon and slash after another word is no link.
    expect(templateOf('Ratio 3:/4 and note:/tmp').linkDomains).toEqual([]);
  });

  it('reads the full stops a browser reads as dots in a host', () => {
    for (const body of [
      'Pay at paypal。com/login now',
      'Pay at paypal．com/login now',
      'Pay at https://paypal｡com/x',
    ])
      expect(templateOf(body).linkDomains, body).toEqual(['paypal.com']);
    // Between words of other scripts it stays a full stop.
    expect(templateOf('見てください。明日').template).toBe('見てください。明日');
  });
});

describe('templateOf: look-alike letters', () => {
  it('reads Greek capitals Ν and Υ as N and Y, not as the v and u their lower case resembles', () => {
    expect(templateOf('ΝEW OFFER for ΥOU').template).toBe('new offer for you');
  });
});

describe('templateOf: variable fields', () => {
  it('masks a code of letters alone that ends a clause after a code word, and leaves words there alone', () => {
    for (const [body, masked] of [
      ['Your code: XKQMPZ', 'Your code: <tok>'],
      ['Your PIN is ABCD.', 'Your PIN is <tok>.'],
      ['Your code is XKQMPZ. Do not share.', 'Your code is <tok>. Do not share.'],
      ['Tu código es QWERTY', 'Tu código es <tok>'],
      ['Your token: xKqMpZ, valid 5 min', 'Your token: <tok>, valid <num> min'],
      // Words: lower case, one capital, part of a sentence, or a message all in capitals.
      ['Your code expires in 5 minutes', 'Your code expires in <num> minutes'],
      ['Your code is Ready', 'Your code is Ready'],
      ['Password RESET requested', 'Password RESET requested'],
      ['Use code WINTER for 20% off', 'Use code WINTER for <num>% off'],
      ['YOUR PASSWORD WAS RESET', 'YOUR PASSWORD WAS RESET'],
      ['YOUR CODE EXPIRES IN 5 MIN', 'YOUR CODE EXPIRES IN <num> MIN'],
      ['YOUR PIN CODE IS 1234', 'YOUR PIN CODE IS <num>'],
      ['code ON the way', 'code ON the way'],
    ] as const)
      expect(templateOf(body).maskedBody, body).toBe(masked);
    // Two messages of a letter-code OTP are one template.
    expect(templateOf('Your Acme code is QWERTY').template).toBe(
      templateOf('Your Acme code is ZXCVBN').template,
    );
  });

  it('masks OTP codes and alphanumeric codes as numbers', () => {
    const result = templateOf('Your code is G-123456. PIN 4821');
    expect(result.template).toBe('your code is <num>. pin <num>');
    expect(result.maskedBody).toBe('Your code is <num>. PIN <num>');
  });

  it.each([
    ['$12.50', 'pay <amount> now'],
    ['12,50 €', 'pay <amount> now'],
    ['USD 300', 'pay <amount> now'],
    ['£5', 'pay <amount> now'],
    ['300 dollars', 'pay <amount> now'],
    ['US$1,200.00', 'pay <amount> now'],
  ])('masks the amount %s', (amount, expected) => {
    expect(templateOf(`Pay ${amount} now`).template).toBe(expected);
  });

  it('masks emails whole', () => {
    const result = templateOf('Write to John.Doe+x@mail.example.org today');
    expect(result.template).toBe('write to <email> today');
    expect(result.linkDomains, 'an email address is not a link').toEqual([]);
  });

  it('masks long letter-and-digit tokens but not long words', () => {
    expect(templateOf('id aGVsbG8gd29ybGQgMTIz= ref 4f3a9b2c8d7e6f1a0b9c').template).toBe(
      'id <tok> ref <tok>',
    );
    expect(templateOf('Supercalifragilistic').template).toBe('supercalifragilistic');
  });

  it('masks grouped numbers, times and dates as one field', () => {
    expect(templateOf('at 10:30 on 12/05, total 1.234,56').template).toBe('at <num> on <num>, total <num>');
  });

  it('masks names after a greeting, with or without a title, but not common salutations', () => {
    expect(templateOf('Hi John, ready?').template).toBe('hi <name>, ready?');
    expect(templateOf('Dear Mr. John Smith, pay').maskedBody).toBe('Dear Mr. <name> <name>, pay');
    expect(templateOf('Hi there, Dear Valued Customer').template).toBe('hi there, dear valued customer');
    expect(templateOf('Hi. Your parcel').template, 'a sentence break ends the greeting').toBe(
      'hi. your parcel',
    );
  });
});

describe('templateOf: normalisation', () => {
  it('folds case, full-width forms, look-alike letters and invisible characters in the template only', () => {
    const result = templateOf('Ｙоur\u200b  ассоunt\n\tis LOCKED');
    expect(result.template).toBe('your account is locked');
    expect(result.maskedBody, 'masked body keeps the original letters').toBe('Yоur ассоunt is LOCKED');
  });

  it('makes look-alike variants of one message share a template', () => {
    const plain = templateOf('Your PayPal account is suspended, verify at bit.ly/x1').template;
    const spoofed = templateOf('Yоur PаyPаl ассount is susреnded,\u200b verify at bit.ly/zz9').template;
    expect(spoofed).toBe(plain);
  });

  it('returns empty outputs for empty and whitespace-only bodies', () => {
    expect(templateOf(' \n\u200b ')).toEqual({ template: '', maskedBody: '', linkDomains: [] });
  });
});

describe('collapseWhitespace', () => {
  it('equals replacing every whitespace run by one space and trimming', () => {
    const whitespace = [
      ' ',
      '\t',
      '\n',
      '\v',
      '\f',
      '\r',
      '\u00a0',
      '\u1680',
      '\u2000',
      '\u2005',
      '\u200a',
      '\u2028',
      '\u2029',
      '\u202f',
      '\u205f',
      '\u3000',
      '\ufeff',
      // not whitespace to \s
      '\u180e',
      '\u200b',
      '\u0085',
    ];
    const text = fc
      .array(
        fc.oneof(
          fc.constantFrom(...whitespace),
          fc.constantFrom('a', 'é', '—', '😀'),
          fc.string({ maxLength: 2 }),
        ),
        {
          maxLength: 30,
        },
      )
      .map((pieces) => pieces.join(''));
    fc.assert(
      fc.property(text, (body) => {
        expect(collapseWhitespace(body)).toBe(body.replace(/\s+/gu, ' ').trim());
      }),
      { numRuns: 1000 },
    );
  });
});

describe('templateOf: robustness', () => {
  // Built at collection: fast-check's first 'binary' unit costs about a second to set up.
  const anyBody = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.string({ maxLength: 300 }),
  );

  it('never throws, and the template is lower-case with single spaces', () => {
    fc.assert(
      fc.property(anyBody, (body) => {
        const { template, maskedBody, linkDomains } = templateOf(body);
        expect(template).toBe(template.toLowerCase());
        expect(template).not.toMatch(/\s\s|^\s|\s$/);
        expect(maskedBody).not.toMatch(/\s\s|^\s|\s$/);
        expect(new Set(linkDomains).size).toBe(linkDomains.length);
        for (const domain of linkDomains) expect(domain).toBe(domain.toLowerCase());
      }),
    );
  });

  it('never lets a digit of a code, amount or phone number survive in link-free text', () => {
    const piece = fc.oneof(
      fc.stringMatching(/^[A-Za-z]{1,8}$/),
      fc.stringMatching(/^[0-9]{1,10}$/),
      fc.stringMatching(/^[A-Z]-[0-9]{4,8}$/),
      fc.stringMatching(/^[$£€]?[0-9]{1,4}([.,][0-9]{2})? ?(€|USD)?$/),
      // No '.', ':', '/' or '@': glued pieces could then form a link or email, where digits may show.
      fc.constantFrom(',', '!', '(', ')', '+', '-', '#', '?'),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 20 }), fc.constantFrom(' ', ''), (pieces, separator) => {
        const { template, maskedBody } = templateOf(pieces.join(separator));
        expect(template).not.toMatch(/[0-9]/);
        expect(maskedBody).not.toMatch(/[0-9]/);
      }),
    );
  });

  it('never shows a link path in the masked body', () => {
    const pathSegment = fc.stringMatching(/^[a-z0-9]{3,12}$/);
    fc.assert(
      fc.property(
        fc.constantFrom('https://', 'http://', ''),
        fc.constantFrom('bit.ly', 'evil.co.uk', 'sub.example.com'),
        pathSegment,
        (scheme, host, segment) => {
          const { maskedBody } = templateOf(`Click ${scheme}${host}/QQ${segment} now`);
          expect(maskedBody).not.toContain(`QQ${segment}`);
          expect(maskedBody).toContain('/<path>');
        },
      ),
    );
  });

  it.each([
    'a',
    '.',
    'a.',
    '1.',
    'a@',
    'a-',
    '$1',
    '1 ',
    'a.http',
    'https:/',
    '<a',
    '1.a',
    'Hi ',
    'www.',
    'A/',
    '€',
    'ﷺ',
  ])('handles a 64 KiB body of repeated %j without pathological slowdown', (unit) => {
    const body = unit.repeat(Math.ceil(65_536 / unit.length)).slice(0, 65_536);
    const { template } = templateOf(body);
    expect(template.length, 'a non-blank body yields a non-empty template').toBeGreaterThan(0);
  });
});

describe('templateOf: regression', () => {
  it('finishes on the supplementary-plane input that made the first scanner loop forever', () => {
    // Astral characters (surrogate pairs) around a dot once left the link rescan stuck at one index.
    const { template, linkDomains } = templateOf('𑂚𛁛𝆹𝅥.ᱮ𒉃𛇝🚕');
    expect(template.length).toBeGreaterThan(0);
    expect(linkDomains).toEqual([]);
  });
});
