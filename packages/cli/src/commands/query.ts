import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { defaultQueriesDir, loadCookbook, parseCookbookQuery } from '@floodgate/clickhouse';
import { readOnlyQuery } from '../connection.ts';
import { type Command, formatTable, parse, parseParams, parsePositiveInt, UsageError } from '../usage.ts';

export const queryCommand: Command = {
  name: 'query',
  summary: 'run read-only SQL or a cookbook query against ClickHouse',
  help: `Usage: floodgate query "<SQL>" [--param name=value]... [--format table|json|ndjson] [--max-rows N]
       floodgate query --name <cookbook query> [--param name=value]...
       floodgate query --file <file.sql> [--param name=value]...
       floodgate query --list

Runs read-only: ClickHouse itself refuses writes and DDL (readonly=2), with a 60 s time limit and a
row cap (--max-rows, default 10000). Use ClickHouse query parameters in the SQL ({name:Type}) and
give their values with --param; values are never pasted into the SQL.

Against the embedded engine this works whether or not \`floodgate run all\` is running: a running
service holds the engine, so the query goes through its admin endpoint (authenticated with the token
it writes to <CLICKHOUSE_DATA_PATH>/.floodgate-admin.json).

Examples:
  floodgate query --list
  floodgate query --name top_anomalous_accounts --param since='2026-11-24 00:00:00' --param limit=20
  floodgate query "SELECT kind, count() AS n FROM detections GROUP BY kind ORDER BY n DESC"`,
  async run(argv) {
    const { values, positionals, help } = parse('query', argv, {
      param: { type: 'string', multiple: true },
      format: { type: 'string', default: 'table' },
      'max-rows': { type: 'string' },
      name: { type: 'string' },
      file: { type: 'string' },
      list: { type: 'boolean' },
    });
    if (help) {
      console.log(this.help);
      return 0;
    }
    if (values['list']) {
      for (const q of loadCookbook()) {
        console.log(`${q.name}\n  ${q.description}`);
        for (const p of q.parameters) console.log(`  --param ${p.name}=<${p.type}>  ${p.description}`);
      }
      return 0;
    }
    const format = String(values['format']);
    if (!['table', 'json', 'ndjson'].includes(format))
      throw new UsageError(`query: --format must be table, json or ndjson, got "${format}"`);
    const sources = [
      positionals.length > 0,
      values['name'] !== undefined,
      values['file'] !== undefined,
    ].filter(Boolean);
    if (sources.length !== 1 || positionals.length > 1)
      throw new UsageError(
        'query: give exactly one of "<SQL>", --name or --file (see floodgate query --help)',
      );
    const params = parseParams(values['param'] as string[] | undefined);
    let sql: string;
    if (values['name'] !== undefined || values['file'] !== undefined) {
      const path =
        values['file'] !== undefined
          ? String(values['file'])
          : join(defaultQueriesDir, `${String(values['name'])}.sql`);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        const known = loadCookbook().map((q) => q.name);
        throw new UsageError(
          values['name'] !== undefined
            ? `query: no cookbook query "${String(values['name'])}"; known: ${known.join(', ')}`
            : `query: cannot read ${path}`,
        );
      }
      const query = parseCookbookQuery(basename(path, '.sql'), text);
      const missing = query.parameters.filter((p) => !(p.name in params));
      if (missing.length > 0)
        throw new UsageError(
          `query ${query.name} needs ${missing.map((p) => `--param ${p.name}=<${p.type}> (${p.description})`).join(', ')}`,
        );
      sql = query.sql;
    } else sql = positionals[0] as string;
    const result = await readOnlyQuery(
      sql,
      params,
      parsePositiveInt(values['max-rows'] as string | undefined, '--max-rows', 10_000),
    );
    if (format === 'json') console.log(JSON.stringify(result.rows, null, 2));
    else if (format === 'ndjson') for (const row of result.rows) console.log(JSON.stringify(row));
    else {
      console.log(formatTable(result.columns, result.rows));
      console.error(`${result.rows.length} row${result.rows.length === 1 ? '' : 's'} (${result.via})`);
    }
    return 0;
  },
};
