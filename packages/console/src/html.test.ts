import { describe, expect, it } from 'vitest';
import { duration, escapeHtml, html, raw, scriptJson } from './html.ts';

describe('html rendering', () => {
  it('escapes every interpolated value, joins arrays and keeps raw markup', () => {
    const name = '<img src=x onerror=alert(1)>"\'&';
    expect(html`<p title="${name}">${name}</p>`.html).toBe(
      '<p title="&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;">&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;</p>',
    );
    expect(html`<ul>${['a<', 'b'].map((x) => html`<li>${x}</li>`)}</ul>`.html).toBe(
      '<ul><li>a&lt;</li><li>b</li></ul>',
    );
    expect(html`${raw('<b>')}${null}${undefined}${false}${0}`.html).toBe('<b>0');
    expect(escapeHtml(42)).toBe('42');
  });

  it('embeds JSON that cannot end its script element', () => {
    const text = scriptJson({ sample: '</script><script>alert(1)</script>', amp: 'a&b' }).html;
    expect(text).not.toContain('</script>');
    expect(text).not.toContain('&');
    expect(JSON.parse(text)).toEqual({ sample: '</script><script>alert(1)</script>', amp: 'a&b' });
  });

  it('says durations the way people read them', () => {
    expect(duration(42_000)).toBe('42 s');
    expect(duration(5 * 60_000)).toBe('5 min');
    expect(duration(3 * 3_600_000 + 7 * 60_000)).toBe('3 h 7 min');
    expect(duration(2 * 86_400_000 + 5 * 3_600_000)).toBe('2 d 5 h');
  });
});
