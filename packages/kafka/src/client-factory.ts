/**
 * kafkajs clients from the shared Kafka config: brokers, client id, SASL (PLAIN, SCRAM-SHA-256/512)
 * and TLS. kafkajs log lines go through the service's pino logger, so they are structured too.
 */
import { readFileSync } from 'node:fs';
import type { KafkaConnectionConfig } from '@floodgate/config';
import { Kafka, type KafkaConfig, logLevel, type SASLOptions } from 'kafkajs';
import { KafkaSetupError } from './errors.ts';

export interface KafkaLogSink {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export function createKafka(
  config: Omit<KafkaConnectionConfig, 'producerClient'>,
  logger?: KafkaLogSink,
): Kafka {
  if (!config.brokers || config.brokers.length === 0) {
    throw new KafkaSetupError('KAFKA_NO_BROKER', 'no Kafka brokers configured (set KAFKA_BROKERS)');
  }
  const sasl: SASLOptions | undefined = config.sasl
    ? ({
        mechanism: config.sasl.mechanism,
        username: config.sasl.username,
        password: config.sasl.password,
      } as SASLOptions)
    : undefined;
  const ssl = config.tls
    ? {
        rejectUnauthorized: config.tlsRejectUnauthorized,
        ...(config.tlsCaFile ? { ca: [readFileSync(config.tlsCaFile, 'utf8')] } : {}),
      }
    : undefined;
  const kafkaConfig: KafkaConfig = {
    clientId: config.clientId,
    brokers: config.brokers,
    ...(sasl ? { sasl } : {}),
    ...(ssl ? { ssl } : {}),
    logLevel: logLevel.WARN,
    ...(logger ? { logCreator: () => (entry) => forward(logger, entry) } : {}),
  };
  return new Kafka(kafkaConfig);
}

function forward(
  logger: KafkaLogSink,
  entry: {
    level: number;
    label: string;
    namespace: string;
    log: { message: string } & Record<string, unknown>;
  },
): void {
  const { message, ...rest } = entry.log;
  const fields = { kafkajs: entry.namespace, ...rest };
  if (entry.level <= logLevel.ERROR) logger.error(fields, message);
  else if (entry.level === logLevel.WARN) logger.warn(fields, message);
  else if (entry.level === logLevel.INFO) logger.info(fields, message);
  else logger.debug(fields, message);
}
