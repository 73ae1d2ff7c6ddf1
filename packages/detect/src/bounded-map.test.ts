import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deleteOldest, forgetCursor, LruMap } from './bounded-map.ts';

const anyKey = fc.integer({ min: 0, max: 15 });

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

describe('deleteOldest', () => {
  it('keeps nothing a map dropped once its deleter forgets the cursor (a sweep does)', async () => {
    // A map at its cap evicts once, then is kept under it by other deletes (as a TTL sweep does)
    // while entries come and go, so V8 rebuilds its table again and again. Without forgetCursor,
    // the iterator kept 30 of these 500 values (and in the engine every evicted account).
    const map = new Map<number, object>();
    for (let i = 0; i < 1_000; i++) map.set(i, {});
    deleteOldest(map);
    const dropped: WeakRef<object>[] = [];
    let key = 1_000;
    for (let round = 0; round < 50; round++) {
      const added: number[] = [];
      for (let i = 0; i < 200; i++) {
        const value = {};
        if (i % 20 === 0) dropped.push(new WeakRef(value));
        map.set(key, value);
        added.push(key++);
      }
      for (const k of added) map.delete(k);
      forgetCursor(map);
    }
    // WeakRefs made in this job hold their targets until it ends.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    const kept = dropped.filter((ref) => ref.deref() !== undefined).length;
    expect(kept, `${kept} of ${dropped.length} dropped values still reachable`).toBe(0);
    // Evicting still works after the iterator went, oldest first.
    expect(deleteOldest(map)?.[0]).toBe(1);
  });

  it('deletes what keys().next() would, whatever else is done to the map (property)', () => {
    const op = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(fc.constant('set'), anyKey) },
      { weight: 2, arbitrary: fc.tuple(fc.constant('touch'), anyKey) },
      { weight: 2, arbitrary: fc.tuple(fc.constant('delete'), anyKey) },
      { weight: 3, arbitrary: fc.tuple(fc.constant('deleteOldest'), fc.constant(0)) },
      fc.tuple(fc.constant('clear'), fc.constant(0)),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const map = new Map<number, string>();
        const reference = new Map<number, string>();
        ops.forEach(([name, key], i) => {
          if (name === 'set') {
            map.set(key, `v${i}`);
            reference.set(key, `v${i}`);
          } else if (name === 'touch') {
            for (const m of [map, reference]) {
              m.delete(key);
              m.set(key, `t${i}`);
            }
          } else if (name === 'delete') {
            map.delete(key);
            reference.delete(key);
          } else if (name === 'clear') {
            map.clear();
            reference.clear();
          } else {
            const first = reference.entries().next();
            if (!first.done) reference.delete(first.value[0]);
            expect(deleteOldest(map)).toEqual(first.done ? undefined : first.value);
          }
          expect([...map]).toEqual([...reference]);
        });
      }),
    );
  });

  it('keeps one cursor per map', () => {
    const a = new Map([
      ['a1', 1],
      ['a2', 2],
    ]);
    const b = new Map([
      ['b1', 1],
      ['b2', 2],
    ]);
    expect(deleteOldest(a)).toEqual(['a1', 1]);
    expect(deleteOldest(b)).toEqual(['b1', 1]);
    a.set('a3', 3);
    expect(deleteOldest(a)).toEqual(['a2', 2]);
    expect(deleteOldest(a)).toEqual(['a3', 3]);
    expect(deleteOldest(a)).toBeUndefined();
    a.set('a4', 4);
    expect(deleteOldest(a)).toEqual(['a4', 4]);
    expect(deleteOldest(b)).toEqual(['b2', 2]);
  });
});

describe('LruMap', () => {
  it('matches a Map kept in recency order by delete-and-set (property)', () => {
    const op = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(fc.constant('set'), anyKey) },
      { weight: 2, arbitrary: fc.tuple(fc.constant('touch'), anyKey) },
      { weight: 2, arbitrary: fc.tuple(fc.constant('get'), anyKey) },
      { weight: 2, arbitrary: fc.tuple(fc.constant('delete'), anyKey) },
      { weight: 2, arbitrary: fc.tuple(fc.constant('deleteOldest'), fc.constant(0)) },
      fc.tuple(fc.constant('clear'), fc.constant(0)),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const lru = new LruMap<number, string>();
        const reference = new Map<number, string>();
        ops.forEach(([name, key], i) => {
          if (name === 'set') {
            lru.set(key, `v${i}`);
            reference.delete(key);
            reference.set(key, `v${i}`);
          } else if (name === 'touch') {
            const value = reference.get(key);
            expect(lru.touch(key)).toBe(value !== undefined);
            if (value !== undefined) {
              reference.delete(key);
              reference.set(key, value);
            }
          } else if (name === 'get') {
            expect(lru.get(key)).toBe(reference.get(key));
            expect(lru.has(key)).toBe(reference.has(key));
          } else if (name === 'delete') {
            expect(lru.delete(key)).toBe(reference.delete(key));
          } else if (name === 'clear') {
            lru.clear();
            reference.clear();
          } else {
            const first = reference.entries().next();
            expect(lru.oldestKey()).toBe(first.done ? undefined : first.value[0]);
            if (!first.done) reference.delete(first.value[0]);
            expect(lru.deleteOldest()).toEqual(first.done ? undefined : first.value);
          }
          expect(lru.size).toBe(reference.size);
          expect([...lru]).toEqual([...reference]);
          expect([...lru.entries()]).toEqual([...reference]);
        });
      }),
    );
  });
});
