/**
 * `pnpm kafka` — starts the local single-node Kafka broker for development and prints its address;
 * Ctrl-C stops it and removes its data. `pnpm kafka fetch` only resolves the jars (used by setup).
 */
import { ensureKafkaJars, startLocalBroker } from '@floodgate/kafka';

async function main(): Promise<void> {
  if (process.argv[2] === 'fetch') {
    const dir = await ensureKafkaJars();
    console.log(`Kafka jars ready in ${dir}`);
    return;
  }
  const broker = await startLocalBroker({
    onLog: process.argv.includes('--verbose') ? console.log : undefined,
  });
  console.log(`KAFKA_BROKERS=${broker.bootstrap}`);
  console.log('Kafka broker running (single node, KRaft). Press Ctrl-C to stop.');
  const stop = async (): Promise<void> => {
    await broker.stop();
    console.log('Kafka broker stopped');
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
