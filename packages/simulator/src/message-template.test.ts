import { describe, expect, it } from 'vitest';
import { countryInfo } from './countries.ts';
import {
  compileTemplate,
  formatAmount,
  type RenderContext,
  renderTemplate,
  TemplateSyntaxError,
} from './message-template.ts';
import { Prng } from './prng.ts';

const context: RenderContext = {
  brand: 'Acme',
  country: countryInfo('US'),
  language: 'en',
  codeLength: 6,
  supportPhone: '1-800-555-0199',
};

describe('message templates', () => {
  it('fills every slot and keeps the literal text', () => {
    const template = compileTemplate(
      't1',
      'transactional',
      '{brand}: order {order} ships. {link}',
      'acme.com',
    );
    const body = renderTemplate(template, context, new Prng(1));
    expect(body).toMatch(
      /^Acme: order (#\d{6,8}|[A-Za-z0-9]{3}-\d{5}) ships\. https:\/\/acme\.com\/[A-Za-z0-9]{5,8}$/,
    );
  });

  it('uses one code when a message repeats it', () => {
    const template = compileTemplate('t2', 'otp', 'Your code is {code}\n\n@acme.com #{code}', 'acme.com');
    const body = renderTemplate(template, context, new Prng(2));
    const codes = body.match(/\d{6}/g);
    expect(codes?.length).toBe(2);
    expect(codes?.[0], `both codes in "${body}" must match`).toBe(codes?.[1]);
  });

  it('varies codes, names and links between messages', () => {
    const template = compileTemplate('t3', 'marketing', 'Hi {name}, {code} {link}', 'acme.com');
    const rng = new Prng(3);
    const bodies = new Set(Array.from({ length: 50 }, () => renderTemplate(template, context, rng)));
    expect(bodies.size, 'fifty renderings should all differ').toBe(50);
  });

  it('rejects unknown slots', () => {
    expect(() => compileTemplate('bad', 'otp', 'Hello {nmae}', 'acme.com')).toThrow(TemplateSyntaxError);
  });

  it('formats amounts the local way', () => {
    expect(formatAmount(countryInfo('US'), 12.5)).toBe('$12.50');
    expect(formatAmount(countryInfo('DE'), 12.5)).toBe('12,50 €');
    expect(formatAmount(countryInfo('IN'), 999.4)).toBe('Rs.999');
  });
});
