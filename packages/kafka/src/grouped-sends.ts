/**
 * Group-committed produce requests to one topic. Every request is a broker round trip (acks=all)
 * and an idempotent producer has one in flight, so the batches a service processes at once share
 * requests instead of queueing one each (GroupCommit). Kafka caps a record batch at the broker's
 * message.max.bytes, so a request carries at most `maxRecords` records; a larger submission goes
 * out alone, in chunks of that size.
 */
import { GroupCommit } from '@floodgate/batching';
import type { KeyedRecord, RecordSender } from './record-sender.ts';

/** Records per request: ~1 KiB each keeps a request far below the usual 1 MiB limit. */
export const DEFAULT_MAX_RECORDS_PER_REQUEST = 500;

export interface GroupedSends {
  /** Sends `messages` (possibly with other callers' in the same request); settles when they are acknowledged. */
  send(messages: KeyedRecord[]): Promise<void>;
}

export function groupedSends(
  sender: RecordSender,
  topic: string,
  maxRecords = DEFAULT_MAX_RECORDS_PER_REQUEST,
): GroupedSends {
  const group = new GroupCommit<KeyedRecord[]>({
    sizeOf: (messages) => messages.length,
    maxSize: maxRecords,
    write: async (submissions) => {
      const messages = submissions.length === 1 ? (submissions[0] as KeyedRecord[]) : submissions.flat();
      for (let start = 0; start < messages.length; start += maxRecords)
        await sender.send(topic, messages.slice(start, start + maxRecords));
    },
  });
  return {
    send: (messages) => (messages.length === 0 ? Promise.resolve() : group.submit(messages)),
  };
}
