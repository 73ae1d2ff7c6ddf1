import { describe, expect, it } from 'vitest';
import { TrackerSlab } from './tracker-slab.ts';

describe('TrackerSlab', () => {
  it('hands out disjoint zero-filled slots and reuses released ones, zero-filled again', () => {
    const slab = new TrackerSlab(4);
    const a = slab.allocate();
    const b = slab.allocate();
    expect(
      a.page.f64 === b.page.f64 && Math.abs(a.base - b.base) >= 4,
      'slots of one page must not overlap',
    ).toBe(true);
    a.page.f64.fill(7, a.base, a.base + 4);
    expect(Array.from(b.page.f64.subarray(b.base, b.base + 4))).toEqual([0, 0, 0, 0]);
    slab.release(a.page.f64, a.id);
    expect(slab.live).toBe(1);
    const c = slab.allocate();
    expect(c.id, 'the released slot is reused first').toBe(a.id);
    expect(Array.from(c.page.f64.subarray(c.base, c.base + 4)), 'a reused slot starts zeroed').toEqual([
      0, 0, 0, 0,
    ]);
  });

  it('grows by pages and keeps the reserved size at the peak live count', () => {
    const slab = new TrackerSlab(2);
    const slots = Array.from({ length: 3_000 }, () => slab.allocate());
    const reserved = slab.reservedBytes;
    for (const s of slots) slab.release(s.page.f64, s.id);
    for (let i = 0; i < 3_000; i++) slab.allocate();
    expect(slab.reservedBytes, 'reallocating after release must not add pages').toBe(reserved);
    expect(slab.live).toBe(3_000);
  });

  it('refuses a double release, which would give one slot to two owners', () => {
    const slab = new TrackerSlab(2);
    const a = slab.allocate();
    slab.release(a.page.f64, a.id);
    expect(() => slab.release(a.page.f64, a.id)).toThrow(RangeError);
  });

  it('tracks every slot of many pages (the in-use flags grow ahead of the pages)', () => {
    const slab = new TrackerSlab(2);
    const slots = Array.from({ length: 5_000 }, () => slab.allocate());
    expect(new Set(slots.map((s) => s.id)).size).toBe(5_000);
    const last = slots.at(-1) as (typeof slots)[number];
    slab.release(last.page.f64, last.id);
    expect(() => slab.release(last.page.f64, last.id)).toThrow(RangeError);
    for (const s of slots.slice(0, -1)) slab.release(s.page.f64, s.id);
    expect(slab.live).toBe(0);
  });
});
