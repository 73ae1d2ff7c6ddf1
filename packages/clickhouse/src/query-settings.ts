/**
 * Per-query settings as a SQL `SETTINGS` clause. The embedded engine's connection applies
 * `clickhouse_settings` with session-wide `SET` statements, which would leak (a dedup token or
 * `readonly=1` would stick to every later query); a clause scopes them to the one statement, as the
 * HTTP interface does for a server.
 */
import type { ClickHouseSettings } from '@clickhouse/client';

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
  return parts.length === 0 ? '' : ` SETTINGS ${parts.join(', ')}`;
}

const trailingFormat = /\s+FORMAT\s+[A-Za-z]+\s*$/;

/** Places the clause before a trailing `FORMAT x` (added by the client) or at the end. */
export function withSettingsClause(sql: string, settings: ClickHouseSettings | undefined): string {
  const clause = settingsClause(settings);
  if (!clause) return sql;
  const format = trailingFormat.exec(sql);
  if (format) return `${sql.slice(0, format.index)}${clause}${sql.slice(format.index)}`;
  return `${sql.replace(/[;\s]+$/, '')}${clause}`;
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
