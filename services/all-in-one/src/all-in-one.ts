/**
 * Ingest and detector in one process, sharing one ClickHouse client — what the embedded engine
 * needs, since one process holds its data directory. Each service keeps its own config section
 * (the same environment variables as when run alone) and its own metrics registry.
 */
import { createClickhouse, migrate } from '@floodgate/clickhouse';
import { type DetectorConfig, startDetector } from '@floodgate/detector';
import { type IngestConfig, startIngest } from '@floodgate/ingest';
import { createLogger, createRegistry, type Logger, type Registry } from '@floodgate/observability';

export interface AllInOneHandle {
  registry: Registry;
  ready(): { ready: boolean; reason: string };
  stop(): Promise<void>;
}

export async function startAllInOne(
  ingestConfig: IngestConfig,
  detectorConfig: DetectorConfig,
  logger?: Logger,
): Promise<AllInOneHandle> {
  const log = logger ?? createLogger({ service: 'all-in-one', level: ingestConfig.logging.level });
  const clickhouse = await createClickhouse(ingestConfig.clickhouse);
  await migrate(clickhouse, ingestConfig.clickhouse);
  // One registry: process metrics once, each service's own metrics beside them.
  const registry = createRegistry('all-in-one');
  const ingest = await startIngest(ingestConfig, {
    clickhouse,
    registry,
    logger: log.child({ component: 'ingest' }),
  });
  const detector = await startDetector(detectorConfig, {
    clickhouse,
    registry,
    logger: log.child({ component: 'detector' }),
  });
  return {
    registry,
    ready: () => {
      const states = [ingest.ready(), detector.ready()];
      const notReady = states.find((s) => !s.ready);
      return notReady ?? { ready: true, reason: 'ready' };
    },
    stop: async () => {
      // Both at once: each drains its own consumers; the shutdown budget is 10 s for the process.
      await Promise.all([ingest.stop(), detector.stop()]);
      await clickhouse.close();
    },
  };
}
