/**
 * Incidents, transitions and the notification outbox in ClickHouse (migrations 0004_alerting and
 * 0006_alert_actions).
 * Write order makes the outbox safe: notifications first (skipping ids that already exist, so a
 * replayed detection cannot queue a second page), then the incident versions, then the log; the
 * caller commits Kafka offsets only after all three.
 */
import type { Clickhouse } from '@floodgate/clickhouse';
import { versionNow } from '../version.ts';
import type { Changes } from './book.ts';
import { type Incident, type NotificationRecord, type Transition, withDefaults } from './incident.ts';

function incidentRow(incident: Incident): Record<string, unknown> {
  return {
    id: incident.id,
    rule: incident.rule,
    rule_type: incident.ruleType,
    group_key: incident.groupKey,
    account_id: incident.labels['account'] ?? '',
    state: incident.state,
    severity: incident.severity,
    mode: incident.mode,
    summary: incident.summary,
    labels: incident.labels,
    opened_at: incident.openedAtMs,
    fired_at: incident.firedAtMs,
    last_match_at: incident.lastMatchAtMs,
    resolved_at: incident.resolvedAtMs,
    silenced_by: incident.silencedBy,
    acknowledged_by: incident.acknowledgedBy,
    acknowledged_at: incident.acknowledgedAtMs,
    resolved_by: incident.resolvedBy,
    detections: incident.detections,
    incident: JSON.stringify(incident),
    version: versionNow(),
  };
}

function notificationRow(n: NotificationRecord): Record<string, unknown> {
  return {
    id: n.id,
    incident_id: n.incidentId,
    rule: n.rule,
    receiver: n.receiver,
    receiver_type: n.receiverType,
    action: n.action,
    status: n.status,
    attempts: n.attempts,
    reason: n.reason,
    payload: n.payload,
    created_at: n.createdAtMs,
    delivered_at: n.deliveredAtMs,
    version: versionNow(),
  };
}

function transitionRow(t: Transition): Record<string, unknown> {
  return {
    incident_id: t.incidentId,
    at: t.atMs,
    rule: t.rule,
    account_id: t.accountId,
    from_state: t.from,
    to_state: t.to,
    reason: t.reason,
    actor: t.actor ?? '',
  };
}

interface NotificationRow {
  id: string;
  incident_id: string;
  rule: string;
  receiver: string;
  receiver_type: string;
  action: NotificationRecord['action'];
  status: NotificationRecord['status'];
  attempts: number | string;
  reason: string;
  payload: string;
  created_at: number | string;
  delivered_at: number | string | null;
}

// Latest version per id by argMax, then the filter: the filter then always sees the newest version
// of a row, whatever the optimizer does with a WHERE beside FINAL (an older 'pending' or 'firing'
// version must never come back after a restart).
const latestNotifications = `SELECT id, argMax(incident_id, version) AS incident_id, argMax(rule, version) AS rule,
    argMax(receiver, version) AS receiver, argMax(receiver_type, version) AS receiver_type,
    argMax(action, version) AS action, argMax(status, version) AS status, argMax(attempts, version) AS attempts,
    argMax(reason, version) AS reason, argMax(payload, version) AS payload,
    toUnixTimestamp64Milli(argMax(created_at, version)) AS created_at,
    argMax(if(isNull(delivered_at), NULL, toUnixTimestamp64Milli(assumeNotNull(delivered_at))), version) AS delivered_at
  FROM alert_notifications GROUP BY id`;

function fromRow(row: NotificationRow): NotificationRecord {
  return {
    id: row.id,
    incidentId: row.incident_id,
    rule: row.rule,
    receiver: row.receiver,
    receiverType: row.receiver_type,
    action: row.action,
    status: row.status,
    attempts: Number(row.attempts),
    reason: row.reason,
    payload: row.payload,
    createdAtMs: Number(row.created_at),
    deliveredAtMs: row.delivered_at === null ? null : Number(row.delivered_at),
  };
}

export class AlertStore {
  private readonly clickhouse: Clickhouse;
  constructor(clickhouse: Clickhouse) {
    this.clickhouse = clickhouse;
  }

  /** Stores one drain of the book; returns the notifications that were new (the others existed). */
  async write(changes: Changes): Promise<NotificationRecord[]> {
    let fresh = changes.notifications;
    if (fresh.length > 0) {
      const existing = await (
        await this.clickhouse.client.query({
          query: 'SELECT DISTINCT id FROM alert_notifications WHERE id IN {ids:Array(String)}',
          query_params: { ids: fresh.map((n) => n.id) },
          format: 'JSONEachRow',
        })
      ).json<{ id: string }>();
      const known = new Set(existing.map((r) => r.id));
      fresh = fresh.filter((n) => !known.has(n.id));
      if (fresh.length > 0)
        await this.clickhouse.client.insert({
          table: 'alert_notifications',
          values: fresh.map(notificationRow),
          format: 'JSONEachRow',
        });
    }
    if (changes.incidents.length > 0)
      await this.clickhouse.client.insert({
        table: 'alerts',
        values: changes.incidents.map(incidentRow),
        format: 'JSONEachRow',
      });
    if (changes.transitions.length > 0)
      await this.clickhouse.client.insert({
        table: 'alert_transitions',
        values: changes.transitions.map(transitionRow),
        format: 'JSONEachRow',
      });
    return fresh;
  }

  /** A new version of a notification's row: delivered or failed, with attempts and reason. */
  async markNotification(record: NotificationRecord): Promise<void> {
    await this.clickhouse.client.insert({
      table: 'alert_notifications',
      values: [notificationRow(record)],
      format: 'JSONEachRow',
    });
  }

  async loadOpenIncidents(): Promise<Incident[]> {
    const rows = await (
      await this.clickhouse.client.query({
        query: `SELECT argMax(incident, version) AS incident, argMax(state, version) AS latest_state
                FROM alerts GROUP BY id HAVING latest_state != 'resolved'`,
        format: 'JSONEachRow',
      })
    ).json<{ incident: string }>();
    return rows.map((r) => withDefaults(JSON.parse(r.incident) as Incident));
  }

  async loadPendingNotifications(): Promise<NotificationRecord[]> {
    const rows = await (
      await this.clickhouse.client.query({
        query: `SELECT * FROM (${latestNotifications}) WHERE status = 'pending' ORDER BY created_at, id`,
        format: 'JSONEachRow',
      })
    ).json<NotificationRow>();
    return rows.map(fromRow);
  }

  async notifications(filter: { incidentId?: string } = {}): Promise<NotificationRecord[]> {
    const rows = await (
      await this.clickhouse.client.query({
        query: `SELECT * FROM (${latestNotifications})
                WHERE {incident:String} = '' OR incident_id = {incident:String} ORDER BY created_at, id`,
        query_params: { incident: filter.incidentId ?? '' },
        format: 'JSONEachRow',
      })
    ).json<NotificationRow>();
    return rows.map(fromRow);
  }
}
