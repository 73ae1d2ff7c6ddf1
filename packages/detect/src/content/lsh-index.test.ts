import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NearDuplicateIndex } from './lsh-index.ts';
import { type Fingerprint64, hammingDistance } from './simhash.ts';

const fingerprint = fc.record({ hi: fc.nat({ max: 0xffffffff }), lo: fc.nat({ max: 0xffffffff }) });

function flipBits(fp: Fingerprint64, bits: readonly number[]): Fingerprint64 {
  let { hi, lo } = fp;
  for (const bit of bits) {
    if (bit < 32) lo ^= 1 << bit;
    else hi ^= 1 << (bit - 32);
  }
  return { hi: hi >>> 0, lo: lo >>> 0 };
}

/** Up to `max` distinct bit positions: a fingerprint at exactly that many bits' distance. */
const bitFlips = (max: number) => fc.uniqueArray(fc.integer({ min: 0, max: 63 }), { maxLength: max });

describe('NearDuplicateIndex', () => {
  it.each([0, 1, 2, 3, 5, 7])(
    'never misses a fingerprint within maxDistance %i (pigeonhole banding)',
    (k) => {
      fc.assert(
        fc.property(fingerprint, bitFlips(k), (stored, flips) => {
          const index = new NearDuplicateIndex<string>({ maxDistance: k, capacity: 10 });
          index.add(stored, 'stored');
          const match = index.findNearest(flipBits(stored, flips));
          expect(match, `${flips.length} flipped bits`).toEqual({
            id: 'stored',
            fp: stored,
            distance: flips.length,
          });
        }),
      );
    },
  );

  it('agrees with brute force on clustered data: nearest within range, nothing beyond', () => {
    fc.assert(
      fc.property(
        fc.array(fingerprint, { minLength: 1, maxLength: 5 }),
        fc.array(fc.tuple(fc.nat(), bitFlips(6)), { maxLength: 30 }),
        fc.tuple(fc.nat(), bitFlips(6)),
        (centres, memberSpecs, [queryCentre, queryFlips]) => {
          const members = memberSpecs.map(([c, flips]) => flipBits(centres[c % centres.length]!, flips));
          const index = new NearDuplicateIndex<number>({ maxDistance: 3, capacity: 100 });
          for (const [id, fp] of members.entries()) index.add(fp, id);
          const query = flipBits(centres[queryCentre % centres.length]!, queryFlips);
          const bruteBest = Math.min(65, ...members.map((fp) => hammingDistance(fp, query)));
          const match = index.findNearest(query);
          if (bruteBest <= 3) expect(match?.distance).toBe(bruteBest);
          else expect(match).toBeUndefined();
        },
      ),
    );
  });

  it('matches a brute-force model through adds, replacements and deletes (nearest, then oldest)', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('add' as const),
        id: fc.nat({ max: 12 }),
        centre: fc.nat(),
        flips: bitFlips(5),
      }),
      fc.record({ kind: fc.constant('delete' as const), id: fc.nat({ max: 12 }) }),
      fc.record({ kind: fc.constant('find' as const), centre: fc.nat(), flips: bitFlips(5) }),
    );
    fc.assert(
      fc.property(
        fc.array(fingerprint, { minLength: 1, maxLength: 3 }),
        fc.array(op, { maxLength: 60 }),
        (centres, ops) => {
          const index = new NearDuplicateIndex<number>({ maxDistance: 3, capacity: 1_000 });
          const model = new Map<number, { fp: Fingerprint64; sequence: number }>();
          let sequence = 0;
          for (const o of ops) {
            if (o.kind === 'add') {
              const fp = flipBits(centres[o.centre % centres.length]!, o.flips);
              index.add(fp, o.id);
              model.delete(o.id);
              model.set(o.id, { fp, sequence: sequence++ });
            } else if (o.kind === 'delete') {
              expect(index.delete(o.id)).toBe(model.delete(o.id));
            } else {
              const query = flipBits(centres[o.centre % centres.length]!, o.flips);
              let best: { id: number; distance: number; sequence: number } | undefined;
              for (const [id, entry] of model) {
                const distance = hammingDistance(entry.fp, query);
                if (distance > 3) continue;
                if (
                  !best ||
                  distance < best.distance ||
                  (distance === best.distance && entry.sequence < best.sequence)
                )
                  best = { id, distance, sequence: entry.sequence };
              }
              const match = index.findNearest(query);
              expect(match && { id: match.id, distance: match.distance }).toEqual(
                best && { id: best.id, distance: best.distance },
              );
            }
          }
        },
      ),
    );
  });

  it('assigns exactly the cluster the band scan finds, through duplicates, deletes and evictions', () => {
    // Any shortcut in assignCluster must agree with the scan (nearest, then oldest) at every step (an
    // exact-fingerprint map was tried and measured no faster); few centres and few flips make
    // identical fingerprints under different ids common.
    const op = fc.oneof(
      fc.record({ kind: fc.constant('assign' as const), centre: fc.nat(), flips: bitFlips(2) }),
      fc.record({
        kind: fc.constant('add' as const),
        id: fc.nat({ max: 8 }),
        centre: fc.nat(),
        flips: fc.oneof(fc.constant([]), bitFlips(1)),
      }),
      fc.record({ kind: fc.constant('delete' as const), id: fc.nat({ max: 40 }) }),
    );
    fc.assert(
      fc.property(
        fc.array(fingerprint, { minLength: 1, maxLength: 2 }),
        fc.array(op, { maxLength: 80 }),
        (centres, ops) => {
          const index = new NearDuplicateIndex<number>({ maxDistance: 3, capacity: 12 });
          let nextId = 100;
          for (const o of ops) {
            const fp =
              o.kind === 'delete' ? undefined : flipBits(centres[o.centre % centres.length]!, o.flips);
            if (o.kind === 'add') index.add(fp!, o.id);
            else if (o.kind === 'delete') index.delete(o.id);
            else {
              const scanned = index.findNearest(fp!);
              const id = nextId++;
              const assigned = index.assignCluster(fp!, id);
              expect(assigned.clusterId).toBe(scanned?.id ?? id);
              expect(assigned.isNew).toBe(scanned === undefined);
            }
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('evicts the oldest entry once capacity is exceeded', () => {
    const index = new NearDuplicateIndex<string>({ capacity: 2 });
    const a = { hi: 1, lo: 1 };
    const b = { hi: 0xffff0000, lo: 0x0000ffff };
    const c = { hi: 0x0f0f0f0f, lo: 0xf0f0f0f0 };
    index.add(a, 'a');
    index.add(b, 'b');
    index.add(c, 'c');
    expect(index.size).toBe(2);
    expect(index.findNearest(a), 'a was oldest').toBeUndefined();
    expect(index.findNearest(b)?.id).toBe('b');
    expect(index.findNearest(c)?.id).toBe('c');
  });

  it('deletes by id and re-adding an id replaces its fingerprint', () => {
    const index = new NearDuplicateIndex<string>({ capacity: 10 });
    const first = { hi: 123, lo: 456 };
    const second = { hi: 0xdeadbeef, lo: 0xcafebabe };
    index.add(first, 'x');
    index.add(second, 'x');
    expect(index.size).toBe(1);
    expect(index.findNearest(first), 'old fingerprint is gone from every band').toBeUndefined();
    expect(index.delete('x')).toBe(true);
    expect(index.delete('x')).toBe(false);
    expect(index.findNearest(second)).toBeUndefined();
    expect(index.size).toBe(0);
  });

  it('prefers the closest candidate, then the oldest', () => {
    const index = new NearDuplicateIndex<string>({ capacity: 10 });
    const query = { hi: 0, lo: 0 };
    index.add({ hi: 0, lo: 0b11 }, 'two-bits-old');
    index.add({ hi: 0, lo: 0b1 }, 'one-bit');
    index.add({ hi: 1 << 5, lo: 0 }, 'one-bit-newer');
    expect(index.findNearest(query)).toMatchObject({ id: 'one-bit', distance: 1 });
  });

  it('rejects invalid options with a RangeError', () => {
    expect(() => new NearDuplicateIndex({ capacity: 0 })).toThrow(RangeError);
    expect(() => new NearDuplicateIndex({ capacity: 1.5 })).toThrow(RangeError);
    expect(() => new NearDuplicateIndex({ capacity: 1, maxDistance: 32 })).toThrow(RangeError);
    expect(() => new NearDuplicateIndex({ capacity: 1, maxDistance: -1 })).toThrow(RangeError);
  });
});

describe('NearDuplicateIndex.assignCluster', () => {
  it('joins a near fingerprint to the existing representative and opens a cluster otherwise', () => {
    const index = new NearDuplicateIndex<string>({ capacity: 10 });
    const representative = { hi: 0xaaaaaaaa, lo: 0x55555555 };
    expect(index.assignCluster(representative, 'c1')).toEqual({
      clusterId: 'c1',
      clusterFp: representative,
      isNew: true,
    });
    const near = flipBits(representative, [0, 40, 63]);
    expect(index.assignCluster(near, 'c2')).toEqual({
      clusterId: 'c1',
      clusterFp: representative,
      isNew: false,
    });
    const far = flipBits(representative, [0, 1, 2, 3]);
    expect(index.assignCluster(far, 'c3')).toMatchObject({ clusterId: 'c3', isNew: true });
    expect(index.size, 'joining does not add members, only new clusters do').toBe(2);
  });

  it('keeps a cluster that keeps receiving members when older idle ones are evicted', () => {
    const index = new NearDuplicateIndex<string>({ capacity: 2 });
    const active = { hi: 1, lo: 2 };
    index.assignCluster(active, 'active');
    index.assignCluster({ hi: 0xffffffff, lo: 0 }, 'idle');
    index.assignCluster(active, 'ignored');
    index.assignCluster({ hi: 0, lo: 0xffffffff }, 'newest');
    expect(index.findNearest(active)?.id).toBe('active');
    expect(index.findNearest({ hi: 0xffffffff, lo: 0 })).toBeUndefined();
  });
});
