import { loadAlerterSetup } from '@floodgate/alerter';
import { loadAllInOneConfig } from '@floodgate/all-in-one';
import { redactConfig, secretPaths } from '@floodgate/config';
import { loadDetectorConfig } from '@floodgate/detector';
import { ingestSecretPaths, loadIngestConfig } from '@floodgate/ingest';
import { loadStoreConfig } from '@floodgate/store';
import { type Command, parse, UsageError } from '../usage.ts';

const loaders: Record<string, () => unknown> = {
  ingest: () => redactConfig(loadIngestConfig(), ingestSecretPaths),
  detector: () => redactConfig(loadDetectorConfig(), secretPaths),
  alerter: () => {
    const { config, rules } = loadAlerterSetup();
    return {
      ...redactConfig(config, secretPaths),
      rules: {
        file: rules.file,
        rules: rules.rules.map((r) => r.name),
        receivers: [...rules.receivers.keys()],
      },
    };
  },
  store: () => redactConfig(loadStoreConfig(), secretPaths),
  all: () => {
    const config = loadAllInOneConfig();
    return {
      ingest: redactConfig(config.ingest, ingestSecretPaths),
      detector: redactConfig(config.detector, secretPaths),
      ...(config.alerter ? { alerter: redactConfig(config.alerter.config, secretPaths) } : {}),
    };
  },
};

export const checkConfigCommand: Command = {
  name: 'check-config',
  summary: 'validate the configuration and print it with secrets hidden (or every error)',
  help: `Usage: floodgate check-config [ingest|detector|alerter|store|all]   (default: all)

Loads the configuration exactly as the service would (environment, FLOODGATE_CONFIG file, the
alerter's rules file) and prints the effective values as JSON with secrets replaced. When anything
is wrong it prints every problem, naming the variable or file location, and exits with status 2.`,
  async run(argv) {
    const { positionals, help } = parse('check-config', argv, {});
    if (help) {
      console.log(this.help);
      return 0;
    }
    const name = positionals[0] ?? 'all';
    const load = loaders[name];
    if (!load || positionals.length > 1)
      throw new UsageError(`check-config: expected one of ${Object.keys(loaders).join(', ')}`);
    console.log(JSON.stringify(load(), null, 2));
    return 0;
  },
};
