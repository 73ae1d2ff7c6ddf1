import { migrate, migrationReport } from '@floodgate/clickhouse';
import { openClickhouse } from '../connection.ts';
import { type Command, parse } from '../usage.ts';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply the ClickHouse migrations (idempotent)',
  help: `Usage: floodgate migrate [--shorten-retention]

Applies infra/clickhouse/migrations in order to CLICKHOUSE_URL (a server) or, without it, the embedded
engine at CLICKHOUSE_DATA_PATH. Applied migrations are recorded with checksums: re-running is a no-op
and an edited, already-applied migration is an error.

Tables whose TTL keeps another retention than CLICKHOUSE_RETENTION_DAYS are altered to it (ALTER
TABLE … MODIFY TTL; audit events, detections and alerts keep at least 400 days). Shortening a
retention deletes the older rows, so it also needs --shorten-retention; without it nothing is altered
and the command fails naming the tables. Services only warn about a difference.`,
  async run(argv) {
    const { values, help } = parse('migrate', argv, { 'shorten-retention': { type: 'boolean' } }, false);
    if (help) {
      console.log(this.help);
      return 0;
    }
    const { clickhouse, config } = await openClickhouse();
    try {
      const result = await migrate(clickhouse, config, undefined, {
        applyRetention: true,
        allowShorterRetention: values['shorten-retention'] === true,
      });
      for (const line of migrationReport(result, config)) console.log(line);
      return 0;
    } finally {
      await clickhouse.close();
    }
  },
};
