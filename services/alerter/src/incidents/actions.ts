/**
 * People's actions on incidents (`alert_actions`, migration 0006): acknowledge, withdraw an
 * acknowledgement, resolve. Writers (the CLI, the all-in-one's admin endpoint) only append a row;
 * the alerter that holds the incident reads the actions of its open incidents and applies each
 * once (IncidentBook.applyAction keeps the applied ids in the incident's stored state).
 */
import { randomUUID } from 'node:crypto';
import type { Clickhouse } from '@floodgate/clickhouse';
import { z } from 'zod';
import { AlerterError } from '../errors.ts';
import { formatPath } from '../rules/load.ts';
import { versionNow } from '../version.ts';
import type { IncidentAction } from './incident.ts';

export const incidentActionInputSchema = z.strictObject({
  incidentId: z.string().min(1, 'expected an incident id'),
  action: z.enum(['ack', 'unack', 'resolve']),
  actor: z.string().trim().min(1, 'say who acts (the actor)').max(200),
  note: z.string().max(2000).default(''),
});
export type IncidentActionInput = z.input<typeof incidentActionInputSchema>;

interface ActionRow {
  id: string;
  incident_id: string;
  action: IncidentAction['action'];
  actor: string;
  note: string;
  at_ms: string | number;
}

/**
 * Records an action for the alerter to apply. Refused when the incident does not exist
 * (ALERT_INCIDENT_NOT_FOUND) or is already resolved (ALERT_INCIDENT_RESOLVED): the person should know
 * that nothing will happen.
 */
export async function recordIncidentAction(
  clickhouse: Clickhouse,
  input: IncidentActionInput,
  nowMs: number = Date.now(),
): Promise<IncidentAction> {
  const parsed = incidentActionInputSchema.safeParse(input);
  if (!parsed.success)
    throw new AlerterError(
      'ALERT_ACTION_INVALID',
      `invalid incident action: ${parsed.error.issues.map((i) => `${formatPath(i.path) || '(root)'}: ${i.message}`).join('; ')}`,
    );
  const { incidentId, action, actor, note } = parsed.data;
  const [current] = await (
    await clickhouse.client.query({
      query: `SELECT argMax(state, version) AS state FROM alerts WHERE id = {id:String} GROUP BY id`,
      query_params: { id: incidentId },
      format: 'JSONEachRow',
    })
  ).json<{ state: string }>();
  if (!current) throw new AlerterError('ALERT_INCIDENT_NOT_FOUND', `no incident with id ${incidentId}`);
  if (current.state === 'resolved')
    throw new AlerterError(
      'ALERT_INCIDENT_RESOLVED',
      `incident ${incidentId} is already resolved; nothing to ${action === 'resolve' ? 'resolve' : 'acknowledge'}`,
    );
  const recorded: IncidentAction = { id: randomUUID(), incidentId, action, actor, note, atMs: nowMs };
  await clickhouse.client.insert({
    table: 'alert_actions',
    values: [
      {
        id: recorded.id,
        incident_id: incidentId,
        action,
        actor,
        note,
        at: nowMs,
        version: versionNow(),
      },
    ],
    format: 'JSONEachRow',
  });
  return recorded;
}

/** The actions on these incidents, oldest first (what the alerter polls for its open incidents). */
export async function loadIncidentActions(
  clickhouse: Clickhouse,
  incidentIds: readonly string[],
): Promise<IncidentAction[]> {
  if (incidentIds.length === 0) return [];
  const rows = await (
    await clickhouse.client.query({
      // Rows never change after they are written (a duplicate is a retried insert of the same row).
      query: `SELECT id, incident_id, action, actor, note, toUnixTimestamp64Milli(at) AS at_ms
              FROM alert_actions FINAL WHERE incident_id IN {ids:Array(String)}
              ORDER BY at_ms, id`,
      query_params: { ids: [...incidentIds] },
      format: 'JSONEachRow',
    })
  ).json<ActionRow>();
  return rows.map((row) => ({
    id: row.id,
    incidentId: row.incident_id,
    action: row.action,
    actor: row.actor,
    note: row.note,
    atMs: Number(row.at_ms),
  }));
}
