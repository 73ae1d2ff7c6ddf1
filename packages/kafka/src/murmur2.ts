/**
 * The partition Kafka's default partitioner gives a record key: Java's `Utils.murmur2` of the key's
 * UTF-8 bytes, made positive, modulo the partition count. kafkajs' default partitioner and
 * @platformatic/kafka's `compatibilityPartitioner` pick the same one, so a record sent to an explicit
 * partition from here lands where a keyed record of either client would. In 32-bit integer
 * arithmetic (Math.imul): @platformatic/kafka's own port uses BigInt, ~20× slower.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Java's `Utils.murmur2` of `key`'s UTF-8 bytes (a signed 32-bit integer). */
export function murmur2(key: string): number {
  let ascii = true;
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return hashBytes(key.length, (i) => key.charCodeAt(i));
  const bytes = Buffer.from(key, 'utf8');
  return hashBytes(bytes.length, (i) => bytes[i] as number);
}

function hashBytes(length: number, byteAt: (i: number) => number): number {
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = byteAt(i) | (byteAt(i + 1) << 8) | (byteAt(i + 2) << 16) | (byteAt(i + 3) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The 1–3 tail bytes, as Java's switch falls through them.
  const tail = length & 3;
  if (tail === 3) h ^= byteAt(whole + 2) << 16;
  if (tail >= 2) h ^= byteAt(whole + 1) << 8;
  if (tail >= 1) h = Math.imul(h ^ byteAt(whole), M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition (of `partitions`) Kafka's default partitioner gives `key`. */
export function partitionOfKey(key: string, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}
