/**
 * `floodgate silence add|ls|expire`: maintenance windows for the alerter (`alert_silences`). A
 * silenced incident is recorded but not sent; when the silence ends while it still fires, the page
 * goes out then. Writes use the alerter's createSilence/expireSilence (through the running service
 * when one holds the embedded engine); `ls` is a read-only query.
 */
import { createSilence, expireSilence, type Matcher, type Silence } from '@floodgate/alerter';
import { actorFrom, writeThroughServiceOrDirect } from '../admin-write.ts';
import { readOnlyQuery } from '../connection.ts';
import { type Command, formatTable, parse, parseDurationMs, UsageError } from '../usage.ts';

const addHelp = `Usage: floodgate silence add --match <matcher> [--match <matcher>]... (--for <duration> | --until <ISO time>)
                           [--by <actor>] --comment <text> [--format text|json]

Mutes every incident whose labels satisfy all matchers, from now until the end. A matcher is
name=value, name!=value, name=~regex or name!~regex (regexes are anchored). Labels: alertname (the
rule), account, kind, key, and the labels of the rule and of the detections.

Examples:
  floodgate silence add --match account=acct_acme --for 2h --comment "planned key rotation"
  floodgate silence add --match 'account=~acct_test_.*' --match kind!=opt_out_spike \\
    --until 2026-12-01T06:00:00Z --by alice --comment "load test"

--by defaults to $USER.`;

const lsHelp = `Usage: floodgate silence ls [--all] [--format table|json]

Lists silences that have not ended (with --all: every silence, expired ones included), with their
state (active, pending = starts later, expired).`;

const expireHelp = `Usage: floodgate silence expire <id>

Ends a silence now (a unique prefix of its id is enough). Incidents it muted that still fire are
paged at the alerter's next refresh.`;

const help = `Usage: floodgate silence <add|ls|expire> [options]   (floodgate silence <sub> --help)

  add      mute matching incidents for a while (maintenance window)
  ls       list silences (--all: expired ones too)
  expire   end a silence now

Exit status: 0 ok, 1 runtime failure (ClickHouse unreachable, no such silence), 2 bad usage.`;

/** `name=value`, `name!=value`, `name=~regex`, `name!~regex`. */
export function parseMatcher(text: string): Matcher {
  const match = /^([^=!~\s]+)\s*(=~|!~|!=|=)(.*)$/.exec(text);
  if (!match)
    throw new UsageError(
      `silence add: --match expects name=value, name!=value, name=~regex or name!~regex, got "${text}"`,
    );
  const [, name = '', op = '=', value = ''] = match;
  if (op === '=~' || op === '!~') {
    try {
      new RegExp(value);
    } catch (error) {
      throw new UsageError(
        `silence add: --match ${text}: invalid regular expression (${(error as Error).message})`,
      );
    }
  }
  return { name, op: op as Matcher['op'], value };
}

export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.op}${JSON.stringify(m.value)}`;
}

function formatOption(value: unknown, command: string, allowed: readonly string[]): string {
  const format = String(value);
  if (!allowed.includes(format))
    throw new UsageError(`silence ${command}: --format must be ${allowed.join(' or ')}, got "${format}"`);
  return format;
}

const iso = (ms: number): string => new Date(ms).toISOString();

async function add(argv: string[]): Promise<number> {
  const { values, help: wantsHelp } = parse(
    'silence add',
    argv,
    {
      match: { type: 'string', multiple: true },
      for: { type: 'string' },
      until: { type: 'string' },
      by: { type: 'string' },
      comment: { type: 'string' },
      format: { type: 'string', default: 'text' },
    },
    false,
  );
  if (wantsHelp) {
    console.log(addHelp);
    return 0;
  }
  const format = formatOption(values['format'], 'add', ['text', 'json']);
  const matchers = ((values['match'] as string[] | undefined) ?? []).map(parseMatcher);
  if (matchers.length === 0)
    throw new UsageError('silence add: give at least one --match (e.g. --match account=acct_acme)');
  const nowMs = Date.now();
  let endsAtMs: number;
  if ((values['for'] === undefined) === (values['until'] === undefined))
    throw new UsageError('silence add: give exactly one of --for <duration> or --until <ISO time>');
  if (values['for'] !== undefined) {
    const forMs = parseDurationMs(String(values['for']), 'silence add --for');
    if (forMs <= 0) throw new UsageError('silence add --for: the duration must be positive');
    endsAtMs = nowMs + forMs;
  } else {
    const until = String(values['until']);
    endsAtMs = Date.parse(until);
    if (!Number.isFinite(endsAtMs) || !/^\d{4}-\d{2}-\d{2}/.test(until))
      throw new UsageError(
        `silence add --until: expected an ISO time such as 2026-12-01T06:00:00Z, got "${until}"`,
      );
    if (endsAtMs <= nowMs) throw new UsageError(`silence add --until: ${until} is in the past`);
  }
  const createdBy = actorFrom(values['by']);
  if (!createdBy) throw new UsageError('silence add: say who you are with --by <name> ($USER is not set)');
  const comment = String(values['comment'] ?? '').trim();
  if (!comment)
    throw new UsageError('silence add: say why with --comment <text> (shown to whoever is paged next)');
  const input = { matchers, startsAtMs: nowMs, endsAtMs, createdBy, comment };
  const { value, via } = await writeThroughServiceOrDirect<Silence>('/silences', input, (clickhouse) =>
    createSilence(clickhouse, input, nowMs),
  );
  if (format === 'json') console.log(JSON.stringify(value, null, 2));
  else {
    console.log(value.id);
    console.error(
      `silence ${value.id} by ${value.createdBy}: ${value.matchers.map(formatMatcher).join(', ')} until ${iso(value.endsAtMs)} (via ${via})`,
    );
  }
  return 0;
}

async function ls(argv: string[]): Promise<number> {
  const { values, help: wantsHelp } = parse(
    'silence ls',
    argv,
    { all: { type: 'boolean' }, format: { type: 'string', default: 'table' } },
    false,
  );
  if (wantsHelp) {
    console.log(lsHelp);
    return 0;
  }
  const format = formatOption(values['format'], 'ls', ['table', 'json']);
  const nowMs = Date.now();
  // Latest version per id first, then the filter (an expired silence is a newer version of its row).
  const { rows } = await readOnlyQuery(
    `SELECT * FROM (
       SELECT id, argMax(matchers, version) AS matchers,
              toUnixTimestamp64Milli(argMax(starts_at, version)) AS starts_at,
              toUnixTimestamp64Milli(argMax(ends_at, version)) AS ends_at,
              argMax(created_by, version) AS created_by, argMax(comment, version) AS comment,
              toUnixTimestamp64Milli(argMax(created_at, version)) AS created_at
       FROM alert_silences GROUP BY id)
     WHERE {all:UInt8} = 1 OR ends_at > {now:Int64}
     ORDER BY starts_at, id`,
    { all: values['all'] ? 1 : 0, now: nowMs },
  );
  const silences = rows.map((r) => {
    const startsAtMs = Number(r['starts_at']);
    const endsAtMs = Number(r['ends_at']);
    return {
      id: String(r['id']),
      state: endsAtMs <= nowMs ? 'expired' : startsAtMs > nowMs ? 'pending' : 'active',
      matchers: JSON.parse(String(r['matchers'])) as Matcher[],
      startsAt: iso(startsAtMs),
      endsAt: iso(endsAtMs),
      createdBy: String(r['created_by']),
      comment: String(r['comment']),
      createdAt: iso(Number(r['created_at'])),
    };
  });
  if (format === 'json') {
    console.log(JSON.stringify(silences, null, 2));
    return 0;
  }
  console.log(
    formatTable(
      ['id', 'state', 'matchers', 'starts', 'ends', 'by', 'comment'],
      silences.map((s) => ({
        ...s,
        matchers: s.matchers.map(formatMatcher).join(', '),
        starts: s.startsAt.slice(0, 19).replace('T', ' '),
        ends: s.endsAt.slice(0, 19).replace('T', ' '),
        by: s.createdBy,
      })),
    ),
  );
  console.error(
    `${silences.length} silence${silences.length === 1 ? '' : 's'}${values['all'] ? '' : ' not ended'}`,
  );
  return 0;
}

async function expire(argv: string[]): Promise<number> {
  const { positionals, help: wantsHelp } = parse('silence expire', argv, {});
  if (wantsHelp) {
    console.log(expireHelp);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError('silence expire: give exactly one silence id (see floodgate silence expire --help)');
  const prefix = positionals[0] as string;
  if (!/^[0-9a-f-]{4,64}$/i.test(prefix))
    throw new UsageError(`silence expire: "${prefix}" is not a silence id (at least 4 characters of it)`);
  const { rows } = await readOnlyQuery(
    'SELECT DISTINCT id FROM alert_silences WHERE startsWith(id, {prefix:String}) ORDER BY id LIMIT 5',
    { prefix: prefix.toLowerCase() },
  );
  if (rows.length === 0) throw new Error(`no silence with an id starting "${prefix}"`);
  if (rows.length > 1)
    throw new UsageError(`silence expire: "${prefix}" matches several silences; give more characters`);
  const id = String(rows[0]?.['id']);
  const { via } = await writeThroughServiceOrDirect<{ expired: boolean }>(
    '/silences/expire',
    { id },
    async (clickhouse) => {
      if (!(await expireSilence(clickhouse, id))) throw new Error(`no silence with id ${id}`);
      return { expired: true };
    },
  );
  console.log(`silence ${id} expired (via ${via})`);
  return 0;
}

export const silenceCommand: Command = {
  name: 'silence',
  summary: 'add, list and expire silences (maintenance windows) for the alerter',
  help,
  async run(argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case 'add':
        return add(rest);
      case 'ls':
      case 'list':
        return ls(rest);
      case 'expire':
        return expire(rest);
      case undefined:
        console.error(this.help);
        return 2;
      case '--help':
      case '-h':
      case 'help':
        console.log(this.help);
        return 0;
      default:
        throw new UsageError(`silence: unknown subcommand "${sub}" (add, ls or expire)`);
    }
  },
};
