import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SmallMap } from './small-map.ts';

describe('SmallMap', () => {
  it('behaves as a Map for any sequence of sets, gets, deletes and deletes while iterating, of any size (property)', () => {
    // Up to 12 keys: the inline entry, the flat list (2–8) and the Map past it, and back down.
    const anyKey = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l');
    const op = fc.oneof(
      { weight: 3, arbitrary: fc.tuple(fc.constant('set'), anyKey, fc.integer()) },
      fc.tuple(fc.constant('get'), anyKey, fc.constant(0)),
      fc.tuple(fc.constant('delete'), anyKey, fc.constant(0)),
      fc.tuple(fc.constant('sweep'), anyKey, fc.integer()),
      fc.tuple(fc.constant('sweepOther'), anyKey, fc.integer()),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const small = new SmallMap<number>();
        const map = new Map<string, number>();
        for (const [name, key, value] of ops) {
          if (name === 'set') {
            small.set(key, value);
            map.set(key, value);
          } else if (name === 'get') {
            expect(small.get(key)).toBe(map.get(key));
            expect(small.has(key)).toBe(map.has(key));
          } else if (name === 'delete') {
            expect(small.delete(key)).toBe(map.delete(key));
          } else if (name === 'sweep') {
            // Delete the entries below `value` while iterating, as the engine's sweep does.
            for (const [k, v] of small) if (v < value) small.delete(k);
            for (const [k, v] of map) if (v < value) map.delete(k);
          } else {
            // Delete another entry while iterating (`key`, when reaching an entry below `value`),
            // recording what each iteration visits: entries deleted before they are reached are not.
            const seenSmall: Array<[string, number]> = [];
            const seenMap: Array<[string, number]> = [];
            for (const [k, v] of small) {
              seenSmall.push([k, v]);
              if (v < value) small.delete(key);
            }
            for (const [k, v] of map) {
              seenMap.push([k, v]);
              if (v < value) map.delete(key);
            }
            expect(seenSmall).toEqual(seenMap);
          }
          expect(small.size).toBe(map.size);
          expect([...small]).toEqual([...map]);
          expect([...small.keys()]).toEqual([...map.keys()]);
          expect([...small.values()]).toEqual([...map.values()]);
          expect(small.oldest()).toEqual(map.entries().next().value);
        }
      }),
      { numRuns: 500 },
    );
  });
});
