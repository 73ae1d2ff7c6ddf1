/**
 * Group-committed produce requests to one topic. Every request is a broker round trip (acks=all)
 * and an idempotent producer has one in flight, so the batches a service processes at once share
 * requests instead of queueing one each (GroupCommit). Kafka caps a record batch at the broker's
 * message.max.bytes (1 MiB by default), so a request carries at most `maxRecords` records and
 * `maxBytes` of keys and values (UTF-8); a larger submission goes out alone, in chunks within both.
 */
import { GroupCommit } from '@floodgate/batching';
import type { KeyedRecord, RecordSender } from './record-sender.ts';

/** Records per request: ~1 KiB each keeps a request far below the usual 1 MiB limit. */
export const DEFAULT_MAX_RECORDS_PER_REQUEST = 500;
/** UTF-8 bytes of keys and values per request: half the usual 1 MiB limit. */
export const DEFAULT_MAX_BYTES_PER_REQUEST = 512 * 1024;

export interface GroupedSends {
  /** Sends `messages` (possibly with other callers' in the same request); settles when they are acknowledged. */
  send(messages: KeyedRecord[]): Promise<void>;
}

const sizeOf = (record: KeyedRecord): number =>
  Buffer.byteLength(record.key, 'utf8') + Buffer.byteLength(record.value, 'utf8');

export function groupedSends(
  sender: RecordSender,
  topic: string,
  maxRecords = DEFAULT_MAX_RECORDS_PER_REQUEST,
  maxBytes = DEFAULT_MAX_BYTES_PER_REQUEST,
): GroupedSends {
  const group = new GroupCommit<KeyedRecord[]>({
    sizeOf: (messages) => messages.length,
    maxSize: maxRecords,
    write: async (submissions) => {
      const messages = submissions.length === 1 ? (submissions[0] as KeyedRecord[]) : submissions.flat();
      let start = 0;
      while (start < messages.length) {
        let end = start;
        let bytes = 0;
        // At least one record per request, however large (the broker judges it).
        while (end < messages.length && end - start < maxRecords) {
          const size = sizeOf(messages[end] as KeyedRecord);
          if (end > start && bytes + size > maxBytes) break;
          bytes += size;
          end++;
        }
        await sender.send(topic, messages.slice(start, end));
        start = end;
      }
    },
  });
  return {
    send: (messages) => (messages.length === 0 ? Promise.resolve() : group.submit(messages)),
  };
}
