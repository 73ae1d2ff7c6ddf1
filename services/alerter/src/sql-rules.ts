/**
 * Scheduled SQL threshold rules: the rule's SELECT runs with its query parameters (never string-built
 * SQL) under read-only settings with a time limit and a row cap; every returned row is one firing
 * alert instance. String columns become labels (or those named in labels_from), every column is
 * shown as a value.
 */
import type { Clickhouse } from '@floodgate/clickhouse';
import type { AlertInstance } from './incidents/book.ts';
import { emptyEvidence } from './incidents/incident.ts';
import type { SqlRule } from './rules/load.ts';

export const sqlRuleSettings = {
  readonly: '2',
  max_execution_time: 30,
  max_result_rows: '1000',
  result_overflow_mode: 'break',
  // Counts come back as JSON numbers, so "string column" reliably means "label".
  output_format_json_quote_64bit_integers: 0,
} as const;

function fillSummary(template: string, row: Record<string, unknown>): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, column: string) =>
    column in row ? String(row[column]) : whole,
  );
}

export function instanceOfRow(rule: SqlRule, row: Record<string, unknown>): AlertInstance {
  const labels: Record<string, string> = { ...rule.labels, alertname: rule.name };
  const values: Record<string, string | number> = {};
  for (const [column, value] of Object.entries(row)) {
    const scalar = typeof value === 'number' || typeof value === 'string' ? value : JSON.stringify(value);
    values[column] = scalar;
    const isLabel = rule.labelsFrom ? rule.labelsFrom.includes(column) : typeof value === 'string';
    if (isLabel) labels[column] = String(scalar);
  }
  if (labels['account'] === undefined && typeof row['account_id'] === 'string')
    labels['account'] = row['account_id'];
  const numeric = Object.entries(values)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const summary = rule.summary
    ? fillSummary(rule.summary, row)
    : `${rule.description || rule.name}${numeric ? ` (${numeric})` : ''}`;
  const evidence = emptyEvidence();
  evidence.reason = summary;
  evidence.values = values;
  return { labels, severity: rule.severity, summary, evidence };
}

export async function evaluateSqlRule(clickhouse: Clickhouse, rule: SqlRule): Promise<AlertInstance[]> {
  const result = await clickhouse.client.query({
    query: rule.sql,
    query_params: rule.params,
    format: 'JSONEachRow',
    clickhouse_settings: sqlRuleSettings,
  });
  const rows = await result.json<Record<string, unknown>>();
  return rows.map((row) => instanceOfRow(rule, row));
}
