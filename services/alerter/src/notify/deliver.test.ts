import { describe, expect, it } from 'vitest';
import { retryAfterMs } from './deliver.ts';

describe('Retry-After', () => {
  it('reads delta-seconds and HTTP dates, and ignores what it cannot read', () => {
    const nowMs = Date.UTC(2026, 10, 25, 12, 0, 0);
    expect(retryAfterMs('7', nowMs)).toBe(7_000);
    expect(retryAfterMs('Wed, 25 Nov 2026 12:00:30 GMT', nowMs)).toBe(30_000);
    expect(retryAfterMs('Wed, 25 Nov 2026 11:00:00 GMT', nowMs), 'a date in the past means now').toBe(0);
    expect(retryAfterMs('soon', nowMs)).toBeUndefined();
    expect(retryAfterMs(null, nowMs)).toBeUndefined();
  });
});
