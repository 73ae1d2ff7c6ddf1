import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SmallMap } from './small-map.ts';

describe('SmallMap', () => {
  it('behaves as a Map for any sequence of sets, gets, deletes and deletes while iterating (property)', () => {
    const op = fc.oneof(
      fc.tuple(fc.constant('set'), fc.constantFrom('a', 'b', 'c', 'd'), fc.integer()),
      fc.tuple(fc.constant('get'), fc.constantFrom('a', 'b', 'c', 'd'), fc.constant(0)),
      fc.tuple(fc.constant('delete'), fc.constantFrom('a', 'b', 'c', 'd'), fc.constant(0)),
      fc.tuple(fc.constant('sweep'), fc.constantFrom('a', 'b', 'c', 'd'), fc.integer()),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
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
          } else {
            // Delete the entries below `value` while iterating, as the engine's sweep does.
            for (const [k, v] of small) if (v < value) small.delete(k);
            for (const [k, v] of map) if (v < value) map.delete(k);
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
