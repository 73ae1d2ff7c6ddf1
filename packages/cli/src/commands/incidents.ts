/**
 * `floodgate incidents ls|show|ack|unack|resolve`: what the alerter stored in ClickHouse (`alerts`,
 * `alert_transitions`, `alert_notifications`, `alert_actions`), and the actions people take on it.
 * Reads are read-only queries; ack/resolve append to `alert_actions`, which the alerter holding the
 * incident applies once (through the running service when one holds the embedded engine).
 */
import { type IncidentAction, type IncidentActionKind, recordIncidentAction } from '@floodgate/alerter';
import {
  actionState,
  FILTERED_INCIDENTS,
  INCIDENT_ACTIONS,
  INCIDENT_IDS_BY_PREFIX,
  INCIDENT_NOTIFICATIONS,
  INCIDENT_STATE,
  INCIDENT_TRANSITIONS,
  type StoredIncident,
} from '@floodgate/console';
import { actorFrom, writeThroughServiceOrDirect } from '../admin-write.ts';
import { readOnlyQuery } from '../connection.ts';
import { type Command, formatTable, parse, parseDurationMs, parsePositiveInt, UsageError } from '../usage.ts';

const severities = ['critical', 'error', 'warning', 'info'] as const;
const states = ['open', 'resolved', 'all'] as const;

const lsHelp = `Usage: floodgate incidents ls [--state open|resolved|all] [--severity <s>]... [--kind <kind>]...
                            [--account <id>] [--since <duration>] [--limit N] [--format table|json]

Lists incidents, newest first. --state open (default) means pending or firing. --severity (critical,
error, warning, info) and --kind (a detection kind, e.g. credential_anomaly) may be repeated or
comma-separated. --since 24h keeps incidents active at any time in that period (opened, or not yet
resolved, within it). --limit defaults to 50. Table ids are cut to 12 characters: every command takes
a unique prefix of an id.`;

const showHelp = `Usage: floodgate incidents show <id> [--format text|json]

Shows one incident (a unique prefix of its id is enough): its state, who acknowledged or resolved it,
the evidence summary, its transitions, the notifications with their outcome (delivered, failed with the
reason, silenced, shadow, pending) and the actions people took on it.`;

const actionHelp = (verb: 'ack' | 'unack' | 'resolve'): string => {
  const what = {
    ack: `Acknowledges an open incident: it keeps firing, but repeat notifications (repeat_interval) stop
until it escalates to a higher severity (which notifies at once and ends the acknowledgement) or
someone runs \`floodgate incidents unack\`.`,
    unack: 'Withdraws an acknowledgement: repeat notifications resume.',
    resolve: `Resolves an open incident now: receivers get the resolve (PagerDuty: resolve with the same
dedup_key), any containment action is lifted, and the transition records who did it. Detections that
keep coming for the same group open a new incident as usual.`,
  }[verb];
  return `Usage: floodgate incidents ${verb} <id> [--by <actor>] [--note <text>]

${what}

--by defaults to $USER. The action is stored in alert_actions and applied once by the alerter that holds
the incident (at once through a running all-in-one service, otherwise within ALERT_ACTION_REFRESH_MS).`;
};

const help = `Usage: floodgate incidents <ls|show|ack|unack|resolve> [options]   (floodgate incidents <sub> --help)

  ls        list incidents (filters: state, severity, kind, account, period)
  show      one incident with its transitions, notifications, actions and evidence
  ack       acknowledge: stop repeat notifications while someone works on it
  unack     withdraw an acknowledgement
  resolve   resolve now, sending the resolve to every receiver that was paged

Exit status: 0 ok, 1 runtime failure (ClickHouse unreachable, no such incident, already resolved),
2 bad usage.`;

/** Repeatable, comma-separated values checked against a list (when given). */
function listOption(value: unknown, what: string, allowed?: readonly string[]): string[] {
  const items = ((value as string[] | undefined) ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (allowed)
    for (const item of items)
      if (!allowed.includes(item))
        throw new UsageError(`incidents ls: ${what} must be one of ${allowed.join(', ')}, got "${item}"`);
  return items;
}

function formatOption(value: unknown, command: string, allowed: readonly string[]): string {
  const format = String(value);
  if (!allowed.includes(format))
    throw new UsageError(`incidents ${command}: --format must be ${allowed.join(' or ')}, got "${format}"`);
  return format;
}

/** `2026-01-02 03:04:05.678` → `2026-01-02 03:04:05` (UTC, as stored). */
const seconds = (value: unknown): string =>
  value === null || value === undefined ? '' : String(value).slice(0, 19);

/** The full id of the one incident whose id starts with `prefix`. */
async function resolveIncidentId(command: string, prefix: string): Promise<string> {
  if (!/^[0-9a-f]{4,64}$/i.test(prefix))
    throw new UsageError(
      `incidents ${command}: "${prefix}" is not an incident id (at least 4 hex characters)`,
    );
  const { rows } = await readOnlyQuery(INCIDENT_IDS_BY_PREFIX, { prefix: prefix.toLowerCase() });
  if (rows.length === 0) throw new Error(`no incident with an id starting "${prefix}"`);
  if (rows.length > 1)
    throw new UsageError(
      `incidents ${command}: "${prefix}" matches several incidents (${rows.map((r) => String(r['id']).slice(0, 12)).join(', ')}…); give more characters`,
    );
  return String(rows[0]?.['id']);
}

async function ls(argv: string[]): Promise<number> {
  const { values, help: wantsHelp } = parse(
    'incidents ls',
    argv,
    {
      state: { type: 'string', default: 'open' },
      severity: { type: 'string', multiple: true },
      kind: { type: 'string', multiple: true },
      account: { type: 'string' },
      since: { type: 'string' },
      limit: { type: 'string' },
      format: { type: 'string', default: 'table' },
    },
    false,
  );
  if (wantsHelp) {
    console.log(lsHelp);
    return 0;
  }
  const state = String(values['state']);
  if (!(states as readonly string[]).includes(state))
    throw new UsageError(`incidents ls: --state must be open, resolved or all, got "${state}"`);
  const format = formatOption(values['format'], 'ls', ['table', 'json']);
  const sinceMs =
    values['since'] === undefined ? 0 : parseDurationMs(String(values['since']), 'incidents ls --since');
  const { rows } = await readOnlyQuery(FILTERED_INCIDENTS, {
    state,
    severities: listOption(values['severity'], '--severity', severities),
    kinds: listOption(values['kind'], '--kind'),
    account: values['account'] === undefined ? '' : String(values['account']),
    sinceMs,
    fromMs: Date.now() - sinceMs,
    limit: parsePositiveInt(values['limit'] as string | undefined, 'incidents ls --limit', 50),
    offset: 0,
  });
  if (format === 'json') {
    console.log(JSON.stringify(rows, null, 2));
    return 0;
  }
  const table = rows.map((r) => ({
    ...r,
    id: String(r['id']).slice(0, 12),
    state: r['state'] === 'firing' && r['acknowledged_by'] ? 'firing (acked)' : r['state'],
    kinds: ((r['kinds'] as string[] | undefined) ?? []).join(','),
    opened: seconds(r['opened_at']),
    by: r['resolved_by'] || r['acknowledged_by'] || '',
  }));
  console.log(
    formatTable(
      ['id', 'state', 'severity', 'rule', 'account', 'kinds', 'opened', 'detections', 'by', 'summary'],
      table,
    ),
  );
  console.error(`${rows.length} incident${rows.length === 1 ? '' : 's'} (${state})`);
  return 0;
}

const iso = (ms: number | null | undefined): string =>
  ms === null || ms === undefined ? '' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
const counted = (items: readonly { value: string; count: number; isNew?: boolean }[]): string =>
  items
    .slice(0, 8)
    .map((i) => `${i.value} (${i.count}${i.isNew ? ', new' : ''})`)
    .join(', ');

async function show(argv: string[]): Promise<number> {
  const {
    values,
    positionals,
    help: wantsHelp,
  } = parse('incidents show', argv, {
    format: { type: 'string', default: 'text' },
  });
  if (wantsHelp) {
    console.log(showHelp);
    return 0;
  }
  const format = formatOption(values['format'], 'show', ['text', 'table', 'json']);
  if (positionals.length !== 1)
    throw new UsageError(
      'incidents show: give exactly one incident id (see floodgate incidents show --help)',
    );
  const id = await resolveIncidentId('show', positionals[0] as string);
  const [incidentRows, transitions, notifications, actions] = [
    await readOnlyQuery(INCIDENT_STATE, { id }),
    await readOnlyQuery(INCIDENT_TRANSITIONS, { id }),
    await readOnlyQuery(INCIDENT_NOTIFICATIONS, { id }),
    await readOnlyQuery(INCIDENT_ACTIONS, { id }),
  ];
  const incident = JSON.parse(String(incidentRows.rows[0]?.['incident'])) as StoredIncident;
  const actionRows: Record<string, unknown>[] = actions.rows.map((a) => ({
    ...a,
    applied: actionState(incident, String(a['id'])),
  }));
  if (format === 'json') {
    console.log(
      JSON.stringify(
        { incident, transitions: transitions.rows, notifications: notifications.rows, actions: actionRows },
        null,
        2,
      ),
    );
    return 0;
  }
  const e = incident.evidence;
  const lines = [
    `Incident ${incident.id}`,
    `  state         ${incident.state}${incident.acknowledgedBy ? ` (acknowledged by ${incident.acknowledgedBy} at ${iso(incident.acknowledgedAtMs)}${incident.acknowledgedNote ? `: ${incident.acknowledgedNote}` : ''})` : ''}`,
    `  severity      ${incident.severity}`,
    `  rule          ${incident.rule} (${incident.ruleType}, ${incident.mode})`,
    `  account       ${incident.labels['account'] ?? ''}`,
    `  summary       ${incident.summary}`,
    `  kinds         ${incident.kinds.join(', ')}`,
    `  detections    ${incident.detections}`,
    `  opened        ${iso(incident.openedAtMs)} UTC`,
    `  fired         ${iso(incident.firedAtMs)}`,
    `  resolved      ${iso(incident.resolvedAtMs)}${incident.resolvedBy ? ` by ${incident.resolvedBy}` : ''}`,
  ];
  if (incident.silencedBy) lines.push(`  silenced by   ${incident.silencedBy}`);
  if (incident.containment)
    lines.push(
      `  containment   ${incident.containment.action} (${incident.containment.mode}), ${incident.containment.active ? `active until ${iso(incident.containment.expiresAtMs)}` : 'lifted'}`,
    );
  lines.push('', 'Evidence');
  if (e.reason) lines.push(`  reason        ${e.reason}`);
  if (e.topTemplates.length > 0)
    for (const t of e.topTemplates.slice(0, 3))
      lines.push(`  template      ${t.sample} (${t.count}${t.isNew ? ', new' : ''})`);
  if (e.topCountries.length > 0) lines.push(`  countries     ${counted(e.topCountries)}`);
  if (e.apiKeys.length > 0) lines.push(`  api keys      ${counted(e.apiKeys)}`);
  if (e.linkDomains.length > 0) lines.push(`  link domains  ${counted(e.linkDomains)}`);
  const counts = Object.entries(e.counts);
  if (counts.length > 0) lines.push(`  counts        ${counts.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  const sqlValues = Object.entries(e.values);
  if (sqlValues.length > 0)
    lines.push(`  values        ${sqlValues.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  console.log(lines.join('\n'));
  console.log('\nTransitions');
  console.log(
    formatTable(
      ['at', 'from', 'to', 'actor', 'reason'],
      transitions.rows.map((t) => ({ ...t, at: seconds(t['at']), from: t['from_state'], to: t['to_state'] })),
      100,
    ),
  );
  console.log('\nNotifications');
  console.log(
    formatTable(
      ['receiver', 'action', 'status', 'attempts', 'created', 'delivered', 'reason'],
      notifications.rows.map((n) => ({
        ...n,
        created: seconds(n['created_at']),
        delivered: seconds(n['delivered_at']),
      })),
    ),
  );
  if (actionRows.length > 0) {
    console.log('\nActions');
    console.log(
      formatTable(
        ['at', 'action', 'actor', 'applied', 'note'],
        actionRows.map((a) => ({ ...a, at: seconds(a['at']) })),
      ),
    );
  }
  return 0;
}

async function act(verb: IncidentActionKind, argv: string[]): Promise<number> {
  const {
    values,
    positionals,
    help: wantsHelp,
  } = parse(`incidents ${verb}`, argv, {
    by: { type: 'string' },
    note: { type: 'string' },
  });
  if (wantsHelp) {
    console.log(actionHelp(verb));
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError(
      `incidents ${verb}: give exactly one incident id (see floodgate incidents ${verb} --help)`,
    );
  const actor = actorFrom(values['by']);
  if (!actor) throw new UsageError(`incidents ${verb}: say who you are with --by <name> ($USER is not set)`);
  const id = await resolveIncidentId(verb, positionals[0] as string);
  const input = { incidentId: id, action: verb, actor, note: String(values['note'] ?? '') };
  const { value, via } = await writeThroughServiceOrDirect<IncidentAction>(
    '/incidents/action',
    input,
    (clickhouse) => recordIncidentAction(clickhouse, input),
  );
  const done = { ack: 'acknowledgement', unack: 'withdrawn acknowledgement', resolve: 'resolve' }[verb];
  console.log(`recorded ${done} of incident ${id} by ${actor} (action ${value.id}, via ${via})`);
  console.error(
    via.startsWith('service')
      ? 'the running alerter applies it now; check with floodgate incidents show'
      : 'the alerter holding the incident applies it within ALERT_ACTION_REFRESH_MS (default 2 s) of running',
  );
  return 0;
}

export const incidentsCommand: Command = {
  name: 'incidents',
  summary: 'list and show incidents; acknowledge or resolve them',
  help,
  async run(argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case 'ls':
      case 'list':
        return ls(rest);
      case 'show':
        return show(rest);
      case 'ack':
      case 'unack':
      case 'resolve':
        return act(sub, rest);
      case undefined:
        console.error(this.help);
        return 2;
      case '--help':
      case '-h':
      case 'help':
        console.log(this.help);
        return 0;
      default:
        throw new UsageError(`incidents: unknown subcommand "${sub}" (ls, show, ack, unack or resolve)`);
    }
  },
};
