/**
 * The records one batch forwards to `traffic.normalized`: its events grouped by the partition their
 * account's key maps to (Kafka's default partitioner, so an account stays on the partition a keyed
 * record would take), each group in as few records as `maxBytes` allows (forwardedBatchValue), in
 * the batch's order. Per partition the events keep their source order, which the detector relies on
 * to tell re-forwarded copies from new events (one source partition per batch).
 */
import { forwardedBatchValue } from '@floodgate/detect';
import { type KeyedRecord, partitionOfKey } from '@floodgate/kafka';

/** A forwarded record's largest value (UTF-8 bytes), well below Kafka's 1 MiB default per record. */
export const DEFAULT_FORWARD_RECORD_BYTES = 64 * 1024;

export function forwardRecords(
  events: readonly { key: string; value: string }[],
  partitions: number,
  maxBytes = DEFAULT_FORWARD_RECORD_BYTES,
): KeyedRecord[] {
  const groups = new Map<number, { key: string; values: string[]; bytes: number }[]>();
  const records: KeyedRecord[] = [];
  for (const { key, value } of events) {
    const partition = partitionOfKey(key, partitions);
    let chunks = groups.get(partition);
    if (chunks === undefined) {
      chunks = [];
      groups.set(partition, chunks);
    }
    let open = chunks[chunks.length - 1];
    // Bytes on the wire, not string length: a body in Chinese is up to 3 bytes a character. +1 for
    // the comma between values in the array.
    const bytes = Buffer.byteLength(value, 'utf8') + 1;
    if (open === undefined || (open.values.length > 0 && open.bytes + bytes > maxBytes)) {
      open = { key, values: [], bytes: 2 };
      chunks.push(open);
    }
    open.values.push(value);
    open.bytes += bytes;
  }
  for (const [partition, chunks] of groups)
    for (const chunk of chunks)
      records.push({ key: chunk.key, value: forwardedBatchValue(chunk.values), partition });
  return records;
}
