/** `node services/alerter/dist/main.js` — runs the alerter alone (ALERT_RULES_FILE names the rules). */
import { ConfigError, redactConfig, secretPaths } from '@floodgate/config';
import { runServiceMain } from '@floodgate/observability';
import { startAlerter } from './alerter.ts';
import { loadAlerterConfig } from './config.ts';
import { RulesError } from './errors.ts';
import { loadRules } from './rules/load.ts';

runServiceMain({
  service: 'alerter',
  defaultAdminAddress: '127.0.0.1:9466',
  loadConfig: () => {
    const config = loadAlerterConfig();
    try {
      return { config, rules: loadRules(config.rulesFile) };
    } catch (error) {
      // An invalid rules file is a configuration error like a bad variable: every problem, exit 2.
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
  },
  logLevel: ({ config }) => config.logging.level,
  // Receivers (URLs, routing keys, HMAC secrets) live in the rules, which are not logged at all.
  redact: ({ config }) => redactConfig(config, secretPaths),
  start: ({ config, rules }, logger) => startAlerter(config, { logger, rules }),
});
