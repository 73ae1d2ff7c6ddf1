/**
 * Starts (or finds) the real Kafka broker every integration test talks to, once per run:
 * KAFKA_BROKERS when set (comma-separated: tests split it); else testcontainers' Kafka module when a Docker engine answers; else the
 * project's local launcher (Maven Central jars on the machine's Java). Never a mock.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startLocalBroker } from '@floodgate/kafka';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    kafkaSource: string;
  }
}

const execFileAsync = promisify(execFile);

async function dockerEngineAnswers(): Promise<boolean> {
  try {
    await execFileAsync('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fromEnv = process.env['KAFKA_BROKERS'];
  if (fromEnv) {
    console.log(`[global-setup] using Kafka at KAFKA_BROKERS=${fromEnv}`);
    project.provide('kafkaBrokers', fromEnv);
    project.provide('kafkaSource', 'env');
    return async () => {};
  }
  if (await dockerEngineAnswers()) {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    // testcontainers' Node Kafka module runs Confluent Platform images (its start script is
    // Confluent's; `apache/kafka` tags are refused), in KRaft mode from 8.0 on: cp-kafka 8.1 is
    // Apache Kafka 4.1. KAFKA_TEST_IMAGE picks another cp-kafka tag.
    const image = process.env['KAFKA_TEST_IMAGE'] ?? 'confluentinc/cp-kafka:8.1.0';
    console.log(`[global-setup] Docker engine found: starting Kafka (${image}) with testcontainers`);
    const container = await new KafkaContainer(image).start();
    const brokers = `${container.getHost()}:${container.getMappedPort(9093)}`;
    project.provide('kafkaBrokers', brokers);
    project.provide('kafkaSource', 'testcontainers');
    return async () => {
      await container.stop();
    };
  }
  const started = Date.now();
  console.log(
    '[global-setup] no KAFKA_BROKERS and no Docker engine: starting the local Kafka broker (infra/kafka)',
  );
  const broker = await startLocalBroker();
  console.log(
    `[global-setup] Kafka broker started at ${broker.bootstrap} (pid ${broker.pid}) in ${Date.now() - started} ms`,
  );
  project.provide('kafkaBrokers', broker.bootstrap);
  project.provide('kafkaSource', 'local-launcher');
  process.env['KAFKA_BROKERS'] = broker.bootstrap;
  return async () => {
    await broker.stop();
    console.log('[global-setup] Kafka broker stopped');
  };
}
