/**
 * A ClickHouse for one integration test file: the server at CLICKHOUSE_URL (with a database of its
 * own) or the embedded engine on a fresh temp directory, migrated either way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Clickhouse, createClickhouse, migrate } from '@floodgate/clickhouse';
import { clickhouseConnectionSchema } from '@floodgate/config';

export interface TestClickhouse extends Clickhouse {
  dispose(): Promise<void>;
}

export async function openTestClickhouse(name: string): Promise<TestClickhouse> {
  const dataPath = mkdtempSync(join(tmpdir(), `floodgate-ch-${name}-`));
  const url = process.env['CLICKHOUSE_URL'];
  const config = clickhouseConnectionSchema.parse({
    url,
    user: process.env['CLICKHOUSE_USER'],
    password: process.env['CLICKHOUSE_PASSWORD'],
    database: url ? `floodgate_test_${name}_${process.pid}` : 'floodgate',
    dataPath,
  });
  const clickhouse = await createClickhouse(config);
  await migrate(clickhouse, config);
  return {
    ...clickhouse,
    dispose: async () => {
      if (clickhouse.mode === 'server')
        await clickhouse.client.command({ query: `DROP DATABASE IF EXISTS ${config.database}` });
      await clickhouse.close();
      rmSync(dataPath, { recursive: true, force: true });
    },
  };
}
