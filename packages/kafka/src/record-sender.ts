/**
 * The producer of the pipeline's record streams — ingest's forwards to `traffic.normalized`, the
 * detector's detections and fingerprint observations: string keys and values, acks=all, idempotent,
 * partitioned by Java's murmur2 of the key (the partition kafkajs and the Java client pick too, so
 * switching clients keeps every account on its partition and in order).
 *
 * `KAFKA_PRODUCER_CLIENT` picks the client: `platformatic` (default) or `kafkajs`. `pnpm bench`
 * measured @platformatic/kafka producing ingest's forwards at 1.7–1.9× kafkajs' rate for about half
 * its CPU per record (kafkajs' record encoder allocates and copies each record several times), and
 * forwarding is on ingest's per-event path. Consumers stay on kafkajs: @platformatic/kafka's
 * consumer read at 0.66–1.9× kafkajs' rate across the same runs.
 */
import { readFileSync } from 'node:fs';
import type { KafkaConnectionConfig } from '@floodgate/config';
import {
  compatibilityPartitioner,
  Producer as PlatformaticProducer,
  ProduceAcks,
  type SASLOptions,
  stringSerializers,
} from '@platformatic/kafka';
import type { Kafka, Producer } from 'kafkajs';
import { KafkaSetupError } from './errors.ts';

export interface KeyedRecord {
  key: string;
  value: string;
  /** The partition to send to; by default the key's (Java's murmur2, see murmur2.ts). */
  partition?: number;
}

export interface RecordSender {
  readonly client: 'kafkajs' | 'platformatic';
  /**
   * Sends `records` to `topic` in one request; settles when every replica acknowledged them. A
   * record for a partition the client does not know (one added to the topic since the client last
   * read its metadata) makes the send fail rather than go elsewhere or nowhere.
   */
  send(topic: string, records: readonly KeyedRecord[]): Promise<void>;
  /**
   * How long after partitions are added to a topic this sender may still not know them (its
   * client's metadata refresh): records for them sent earlier fail (see send). @platformatic/kafka
   * re-reads its metadata when a record names a partition it does not know, so 0; kafkajs' producer
   * keeps its metadata for `metadata.max.age` (5 minutes, kafkajs' default, which the services keep).
   */
  readonly newPartitionDelayMs: number;
  /** Closes the client this sender made (a kafkajs producer passed in stays its owner's). */
  close(): Promise<void>;
}

/** kafkajs' default `metadataMaxAge`: how long its producer keeps a topic's partitions. */
const KAFKAJS_METADATA_MAX_AGE_MS = 300_000;

/** A record named a partition the producer client does not know (yet): nothing was sent there. */
export class UnknownPartitionError extends Error {
  constructor(topic: string, partition: number) {
    super(
      `the producer does not know partition ${partition} of ${topic} (yet); the send failed instead of sending it elsewhere`,
    );
    this.name = 'UnknownPartitionError';
  }
}

const SASL_MECHANISMS = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
} as const;

/**
 * A sender on the configured client. With kafkajs it sends through `producer` when given (a
 * connected idempotent producer the caller also uses, e.g. for dead letters) or one of its own.
 * With @platformatic/kafka it connects and gets its producer id before returning, so a wrong broker
 * address, TLS or SASL setting or a missing permission fails at startup, as kafkajs' `connect()` does.
 * Unlike kafkajs' producer it never auto-creates a topic: the services create theirs.
 */
export async function createRecordSender(
  config: KafkaConnectionConfig,
  kafka: Kafka,
  producer?: Producer,
): Promise<RecordSender> {
  if (config.producerClient === 'kafkajs') {
    const own = producer === undefined;
    const kafkajsProducer = producer ?? kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    if (own) await kafkajsProducer.connect();
    return {
      client: 'kafkajs',
      // Its metadata age, and a margin for brokers that learn of the partitions a little later.
      newPartitionDelayMs: KAFKAJS_METADATA_MAX_AGE_MS + 5_000,
      send: async (topic, records) => {
        const sent = await kafkajsProducer.send({ topic, acks: -1, messages: records as KeyedRecord[] });
        // kafkajs leaves out, without an error, the records of a partition its metadata lacks.
        const partitions = new Set(sent.map((meta) => meta.partition));
        for (const record of records)
          if (record.partition !== undefined && !partitions.has(record.partition))
            throw new UnknownPartitionError(topic, record.partition);
      },
      close: async () => {
        if (own) await kafkajsProducer.disconnect();
      },
    };
  }
  if (!config.brokers || config.brokers.length === 0)
    throw new KafkaSetupError('KAFKA_NO_BROKER', 'no Kafka brokers configured (set KAFKA_BROKERS)');
  const platformatic = new PlatformaticProducer({
    clientId: config.clientId,
    bootstrapBrokers: config.brokers,
    serializers: stringSerializers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    partitioner: compatibilityPartitioner,
    // An idempotent producer otherwise retries forever: a send now gives up after 10 retries a
    // second apart (longer when connections time out instead of being refused), and the caller's
    // batch is retried from its uncommitted offset, as when kafkajs' retries run out.
    retries: 10,
    ...(config.sasl
      ? {
          sasl: {
            mechanism: SASL_MECHANISMS[config.sasl.mechanism],
            username: config.sasl.username,
            password: config.sasl.password,
          } satisfies SASLOptions,
        }
      : {}),
    ...(config.tls
      ? {
          // The broker's host name as SNI, as kafkajs sends it (brokers behind SNI routing need it).
          tlsServerName: true,
          tls: {
            rejectUnauthorized: config.tlsRejectUnauthorized,
            ...(config.tlsCaFile ? { ca: [readFileSync(config.tlsCaFile, 'utf8')] } : {}),
          },
        }
      : {}),
  });
  try {
    await platformatic.metadata({ topics: [], retries: 5 });
    // kafkajs' connect() gets the producer id too: a missing IdempotentWrite permission fails here.
    await platformatic.initIdempotentProducer({});
  } catch (error) {
    await platformatic.close().catch(() => undefined);
    throw error;
  }
  return {
    client: 'platformatic',
    newPartitionDelayMs: 0,
    send: async (topic, records) => {
      // @platformatic/kafka would send a record for a partition its metadata lacks to that number
      // modulo the partitions it knows: read the metadata again first, and fail if it still lacks it.
      let highest = -1;
      for (const record of records)
        if (record.partition !== undefined && record.partition > highest) highest = record.partition;
      if (highest >= 0) {
        const known = async (forceUpdate: boolean) =>
          (await platformatic.metadata({ topics: [topic], forceUpdate })).topics.get(topic)
            ?.partitionsCount ?? 0;
        if (highest >= (await known(false)) && highest >= (await known(true)))
          throw new UnknownPartitionError(topic, highest);
      }
      await platformatic.send({
        messages: records.map((record) =>
          record.partition === undefined
            ? { topic, key: record.key, value: record.value }
            : { topic, key: record.key, value: record.value, partition: record.partition },
        ),
      });
    },
    close: () => platformatic.close(),
  };
}
