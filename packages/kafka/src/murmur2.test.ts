import { murmur2 as platformaticMurmur2 } from '@platformatic/kafka';
import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionOfKey } from './murmur2.ts';

describe('murmur2', () => {
  it("gives Java's Utils.murmur2 values (Kafka's own test vectors)", () => {
    expect(murmur2('21')).toBe(-973932308);
    expect(murmur2('foobar')).toBe(-790332482);
    expect(murmur2('a-little-bit-long-string')).toBe(-985981536);
    expect(murmur2('a-little-bit-longer-string')).toBe(-1486304829);
    expect(murmur2('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8')).toBe(-58897971);
    expect(murmur2('abc')).toBe(479470107);
  });

  it("agrees with @platformatic/kafka's port on any string, non-ASCII included", () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (key) => {
        expect(murmur2(key)).toBe(platformaticMurmur2(key) | 0);
      }),
      { numRuns: 2_000 },
    );
  });

  it("puts a key in the partition kafkajs' default partitioner picks", () => {
    const partitioner = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 6, 7, 64]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
        partitionId,
        leader: 0,
        partitionErrorCode: 0,
        replicas: [0],
        isr: [0],
      }));
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (key) => {
          const expected = partitioner({ topic: 't', partitionMetadata, message: { key, value: 'v' } });
          expect(partitionOfKey(key, partitions)).toBe(expected);
        }),
        { numRuns: 300 },
      );
    }
  });
});
