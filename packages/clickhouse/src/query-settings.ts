/**
 * Per-query settings as a SQL `SETTINGS` clause. The embedded engine's connection applies
 * `clickhouse_settings` with session-wide `SET` statements, which would leak (a dedup token or
 * `readonly=1` would stick to every later query); a clause scopes them to the one statement, as the
 * HTTP interface does for a server.
 */
import { ClickHouseError, type ClickHouseSettings } from '@clickhouse/client';
import { scanStatement } from './sql-scan.ts';

const settingName = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function settingsClause(settings: ClickHouseSettings | undefined): string {
  if (!settings) return '';
  const parts: string[] = [];
  for (const [name, value] of Object.entries(settings)) {
    if (value === undefined) continue;
    if (!settingName.test(name))
      throw new TypeError(`invalid ClickHouse setting name ${JSON.stringify(name)}`);
    if (typeof value === 'number') parts.push(`${name} = ${value}`);
    else if (typeof value === 'boolean') parts.push(`${name} = ${value ? 1 : 0}`);
    else parts.push(`${name} = '${String(value).replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`);
  }
  return parts.length === 0 ? '' : `SETTINGS ${parts.join(', ')}`;
}

/**
 * Places the clause where ClickHouse reads it: before an INSERT's top-level FORMAT or VALUES (its
 * data follows), before a trailing `FORMAT x` (added by the client), or after the statement's last
 * token. On a line of its own, so a `--` comment before it cannot swallow it.
 */
export function withSettingsClause(sql: string, settings: ClickHouseSettings | undefined): string {
  const clause = settingsClause(settings);
  if (!clause) return sql;
  const scan = scanStatement(sql);
  const at = scan.insertDataClause >= 0 ? scan.insertDataClause : scan.trailingFormat;
  if (at >= 0) return `${sql.slice(0, at)}\n${clause}\n${sql.slice(at)}`;
  return `${sql.slice(0, scan.end)}\n${clause}\n${sql.slice(scan.end).replace(/^[;\s]+$/, '')}`;
}

/** Statements that only read: what `readonly` (≥ 1) lets run. */
export const readingStatements: ReadonlySet<string> = new Set([
  'SELECT',
  'WITH',
  'SHOW',
  'DESCRIBE',
  'DESC',
  'EXISTS',
  'EXPLAIN',
]);

/**
 * Refuses what `readonly` must not let through on the embedded engine, where the setting rides in
 * the statement's own SETTINGS clause: more than one statement (the clause would reach only the
 * last), or a statement that does not only read (an INSERT's inline data could carry the clause
 * away). A server refuses both itself.
 */
export function checkReadOnly(sql: string, settings: ClickHouseSettings | undefined): void {
  const readonly = Number((settings as Record<string, unknown> | undefined)?.['readonly'] ?? 0);
  if (!(readonly > 0)) return;
  const scan = scanStatement(sql);
  if (scan.multiple)
    throw new ClickHouseError({
      message: 'Multi-statements are not allowed',
      code: '62',
      type: 'SYNTAX_ERROR',
    });
  if (!readingStatements.has(scan.keyword))
    throw new ClickHouseError({
      message: `Cannot execute ${scan.keyword || 'this statement'} in readonly mode`,
      code: '164',
      type: 'READONLY',
    });
}

/**
 * Settings that configure the HTTP interface, not a statement: a server reads them from the URL,
 * and the embedded engine rejects them as unknown. @clickhouse/client sends some of them itself.
 */
export const httpOnlySettings: ReadonlySet<string> = new Set([
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_response_buffer_size',
  'http_headers_progress_interval_ms',
  'http_send_progress_interval_ms',
  'enable_http_compression',
  'http_zlib_compression_level',
  'http_response_compression_method',
  'http_native_compression_disable_checksumming_on_decompress',
]);

/**
 * A query's settings for the embedded engine: the ones for its SETTINGS clause, and
 * `default_format` (the output format of a statement without FORMAT), which is not a statement
 * setting; HTTP-only settings are left out.
 */
export function splitEngineSettings(settings: ClickHouseSettings | undefined): {
  clause: ClickHouseSettings | undefined;
  defaultFormat: string | undefined;
} {
  if (!settings) return { clause: undefined, defaultFormat: undefined };
  const clause: Record<string, unknown> = {};
  let defaultFormat: string | undefined;
  for (const [name, value] of Object.entries(settings)) {
    if (name === 'default_format') defaultFormat = value === undefined ? undefined : String(value);
    else if (!httpOnlySettings.has(name)) clause[name] = value;
  }
  return { clause: clause as ClickHouseSettings, defaultFormat };
}
