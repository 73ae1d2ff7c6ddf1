import { securityReportPlan } from '@floodgate/clickhouse';
import { openReader } from '../connection.ts';
import { type Command, formatTable, parse, parseDurationMs, UsageError } from '../usage.ts';

export const reportCommand: Command = {
  name: 'report',
  summary:
    'the periodic credential audit (CTIA): unused, unscoped and shared keys, logins without MFA, detections',
  help: `Usage: floodgate report security [--since 30d] [--min-networks 3] [--format text|json]

The credential audit the CTIA Messaging Security Best Practices ask for, from ClickHouse: API keys
unused in the period (or never), keys with no network or country scope, keys seen from many source
networks (--min-networks distinct /24 or /48), keys shared with third parties and their traffic,
console logins without MFA, users whose MFA is disabled, and the detections per account. Each section
is a cookbook query (infra/clickhouse/queries/security_*.sql) run read-only.`,
  async run(argv) {
    const { values, positionals, help } = parse('report', argv, {
      since: { type: 'string', default: '30d' },
      'min-networks': { type: 'string', default: '3' },
      format: { type: 'string', default: 'text' },
    });
    if (help) {
      console.log(this.help);
      return 0;
    }
    if (positionals[0] !== 'security' || positionals.length !== 1)
      throw new UsageError('report: expected "security" (see floodgate report --help)');
    const format = String(values['format']);
    if (format !== 'text' && format !== 'json')
      throw new UsageError(`report: --format must be text or json, got "${format}"`);
    const sinceMs = parseDurationMs(String(values['since']), '--since');
    const minNetworks = Number(values['min-networks']);
    if (!Number.isInteger(minNetworks) || minNetworks < 1)
      throw new UsageError(
        `report: --min-networks must be a positive integer, got "${String(values['min-networks'])}"`,
      );
    const plan = securityReportPlan({ sinceDays: sinceMs / 86_400_000, minNetworks });
    const since = plan[0]?.params['since'];
    const reader = await openReader();
    const sections: { section: string; title: string; rows: Record<string, unknown>[]; columns: string[] }[] =
      [];
    try {
      for (const { section, title, query, params } of plan)
        sections.push({ section, title, ...(await reader.run(query.sql, params)) });
    } finally {
      await reader.close();
    }
    if (format === 'json') {
      console.log(JSON.stringify({ since, sections: sections.map(({ columns: _c, ...s }) => s) }, null, 2));
      return 0;
    }
    console.log(`Floodgate security report — since ${String(since)} UTC (${reader.via})`);
    for (const s of sections) {
      console.log(`\n## ${s.title} (${s.rows.length})`);
      console.log(s.rows.length > 0 ? formatTable(s.columns, s.rows, 50) : '(none)');
    }
    return 0;
  },
};
