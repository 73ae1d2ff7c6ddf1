/** The alerter as a runnable service: what `main.ts`, `floodgate run alerter` and the all-in-one runner start. */
import { serviceClickhouse } from '@floodgate/clickhouse';
import { ConfigError, type LoadOptions, redactConfig } from '@floodgate/config';
import type { RunnableService } from '@floodgate/observability';
import { startAlerter } from './alerter.ts';
import { type AlerterConfig, alerterSecretPaths, loadAlerterConfig } from './config.ts';
import { incidentConsoleRoutes } from './console.ts';
import { RulesError } from './errors.ts';
import { loadRules, type RuleSet } from './rules/load.ts';

export interface AlerterSetup {
  config: AlerterConfig;
  rules: RuleSet;
}

/**
 * The alerter's config and its rules file, validated together. An invalid rules file is a
 * configuration error like a bad variable: every problem with its location, exit status 2.
 */
export function loadAlerterSetup(options?: LoadOptions): AlerterSetup {
  const config = loadAlerterConfig(options);
  try {
    return { config, rules: loadRules(config.rulesFile) };
  } catch (error) {
    if (error instanceof RulesError)
      throw new ConfigError(
        error.problems.map((p) => ({
          source: p.path ? `${p.location} ${p.path}` : p.location,
          path: p.path,
          message: p.message,
        })),
        { cause: error },
      );
    throw error;
  }
}

export const alerterService: RunnableService<AlerterSetup> = {
  service: 'alerter',
  defaultAdminAddress: '127.0.0.1:9466',
  loadConfig: () => loadAlerterSetup(),
  logLevel: ({ config }) => config.logging.level,
  // Receivers (URLs, routing keys, HMAC secrets) live in the rules, which are not logged at all.
  redact: ({ config }) => redactConfig(config, alerterSecretPaths),
  start: async ({ config, rules }, logger) => {
    // One ClickHouse client for the alerter and its console.
    const { clickhouse } = await serviceClickhouse(config.clickhouse, undefined, logger);
    const handle = await startAlerter(config, { logger, rules, clickhouse });
    return {
      ...handle,
      adminRoutes: incidentConsoleRoutes(config, clickhouse, handle, handle.registry, logger),
      stop: async () => {
        await handle.stop();
        await clickhouse.close();
      },
    };
  },
};
