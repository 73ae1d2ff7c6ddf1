/**
 * The all-in-one runner as a runnable service: ingest + detector, plus the alerter when
 * ALERT_RULES_FILE is set. Without KAFKA_BROKERS it starts the local development broker
 * (infra/kafka, Java 17+) and stops it on shutdown.
 */
import { type AlerterSetup, loadAlerterSetup } from '@floodgate/alerter';
import { redactConfig } from '@floodgate/config';
import { type DetectorConfig, loadDetectorConfig } from '@floodgate/detector';
import { type IngestConfig, ingestSecretPaths, loadIngestConfig } from '@floodgate/ingest';
import { type LocalBroker, startLocalBroker } from '@floodgate/kafka';
import type { RunnableService } from '@floodgate/observability';
import { startAllInOne } from './all-in-one.ts';

export interface AllInOneConfig {
  ingest: IngestConfig;
  detector: DetectorConfig;
  alerter?: AlerterSetup;
}

export function loadAllInOneConfig(): AllInOneConfig {
  const ingest = loadIngestConfig();
  const detector = loadDetectorConfig();
  return process.env['ALERT_RULES_FILE']
    ? { ingest, detector, alerter: loadAlerterSetup() }
    : { ingest, detector };
}

export const allInOneService: RunnableService<AllInOneConfig> = {
  service: 'all-in-one',
  defaultAdminAddress: '127.0.0.1:9464',
  loadConfig: loadAllInOneConfig,
  logLevel: (config) => config.ingest.logging.level,
  redact: (config) => redactConfig(config.ingest, ingestSecretPaths),
  start: async (config, logger) => {
    let broker: LocalBroker | undefined;
    if (!config.ingest.kafka.brokers?.length) {
      logger.warn('no KAFKA_BROKERS: starting the local development broker (infra/kafka)');
      broker = await startLocalBroker();
      const brokers = [broker.bootstrap];
      config.ingest.kafka.brokers = brokers;
      config.detector.kafka.brokers = brokers;
      if (config.alerter) config.alerter.config.kafka.brokers = brokers;
      logger.info({ brokers }, 'local broker started');
    }
    const handle = await startAllInOne(config.ingest, config.detector, logger, config.alerter);
    return {
      ...handle,
      stop: async () => {
        await handle.stop();
        await broker?.stop();
      },
    };
  },
};
