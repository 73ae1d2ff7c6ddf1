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
