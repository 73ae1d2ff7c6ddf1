import { migrate, safeUrl } from '@floodgate/clickhouse';
import { openClickhouse } from '../connection.ts';
import { type Command, parse } from '../usage.ts';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply the ClickHouse migrations (idempotent)',
  help: `Usage: floodgate migrate

Applies infra/clickhouse/migrations in order to CLICKHOUSE_URL (a server) or, without it, the embedded
engine at CLICKHOUSE_DATA_PATH. Applied migrations are recorded with checksums: re-running is a no-op
and an edited, already-applied migration is an error. A CLICKHOUSE_RETENTION_DAYS different from the
one the tables were made with is applied to them (ALTER TABLE … MODIFY TTL).`,
  async run(argv) {
    const { help } = parse('migrate', argv, {}, false);
    if (help) {
      console.log(this.help);
      return 0;
    }
    const { clickhouse, config } = await openClickhouse();
    try {
      const result = await migrate(clickhouse, config);
      const where = config.url ? safeUrl(config.url) : `embedded engine at ${config.dataPath}`;
      console.log(
        `migrations on ${where}: applied ${result.applied.length}, already applied ${result.skipped.length}`,
      );
      for (const name of result.applied) console.log(`  applied ${name}`);
      for (const table of result.retentionAltered)
        console.log(
          `  retention of ${table} set from CLICKHOUSE_RETENTION_DAYS (${config.retentionDays} days)`,
        );
      return 0;
    } finally {
      await clickhouse.close();
    }
  },
};
