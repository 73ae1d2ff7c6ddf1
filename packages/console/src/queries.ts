/**
 * The SQL behind the incident views, shared by the console and `floodgate incidents`. Every query is
 * bounded: by incident id, or by account and a time range on the tables' ordering keys, with a
 * LIMIT — a page never scans a whole table.
 */

/** One row per incident with its newest version's columns. */
export const LATEST_INCIDENTS = `SELECT id, argMax(state, version) AS state, argMax(severity, version) AS severity,
    argMax(rule, version) AS rule, argMax(rule_type, version) AS rule_type, argMax(mode, version) AS mode,
    argMax(account_id, version) AS account, argMax(summary, version) AS summary,
    argMax(opened_at, version) AS opened_at, argMax(fired_at, version) AS fired_at,
    argMax(resolved_at, version) AS resolved_at, argMax(detections, version) AS detections,
    argMax(silenced_by, version) AS silenced_by, argMax(acknowledged_by, version) AS acknowledged_by,
    argMax(acknowledged_at, version) AS acknowledged_at, argMax(resolved_by, version) AS resolved_by,
    JSONExtract(argMax(incident, version), 'kinds', 'Array(String)') AS kinds
  FROM alerts GROUP BY id`;

/** Filters of the incident list (CLI `incidents ls` and the console's list). */
export const FILTERED_INCIDENTS = `SELECT * FROM (${LATEST_INCIDENTS})
     WHERE ({state:String} = 'all' OR (state = 'resolved') = ({state:String} = 'resolved'))
       AND (empty({severities:Array(String)}) OR has({severities:Array(String)}, severity))
       AND (empty({kinds:Array(String)}) OR hasAny(kinds, {kinds:Array(String)}))
       AND ({account:String} = '' OR account = {account:String})
       AND ({sinceMs:Int64} = 0 OR resolved_at IS NULL
            OR resolved_at >= fromUnixTimestamp64Milli({fromMs:Int64}, 'UTC'))
     ORDER BY opened_at DESC, id
     LIMIT {limit:UInt32} OFFSET {offset:UInt32}`;

export const INCIDENT_STATE =
  'SELECT argMax(incident, version) AS incident FROM alerts WHERE id = {id:String}';

export const INCIDENT_TRANSITIONS = `SELECT at, from_state, to_state, actor, reason FROM alert_transitions
       WHERE incident_id = {id:String} ORDER BY at LIMIT 500`;

export const INCIDENT_NOTIFICATIONS = `SELECT * FROM (
         SELECT id, argMax(receiver, version) AS receiver, argMax(action, version) AS action,
                argMax(status, version) AS status, argMax(attempts, version) AS attempts,
                argMax(reason, version) AS reason, argMax(created_at, version) AS created_at,
                argMax(delivered_at, version) AS delivered_at
         FROM alert_notifications WHERE incident_id = {id:String} GROUP BY id)
       ORDER BY created_at, id LIMIT 500`;

export const INCIDENT_ACTIONS = `SELECT id, any(action) AS action, any(actor) AS actor, any(note) AS note, min(at) AS at
       FROM alert_actions WHERE incident_id = {id:String} GROUP BY id ORDER BY at, id LIMIT 500`;

/** The full ids of incidents starting with a prefix (at most 5). */
export const INCIDENT_IDS_BY_PREFIX =
  'SELECT DISTINCT id FROM alerts WHERE startsWith(id, {prefix:String}) ORDER BY id LIMIT 5';

/** Where a person's action stands: applied by the alerter, too late, or not yet picked up. */
export function actionState(
  incident: { state: string; appliedActionIds?: string[] },
  actionId: string,
): string {
  if ((incident.appliedActionIds ?? []).includes(actionId)) return 'applied';
  return incident.state === 'resolved' ? 'not applied (resolved first)' : 'waiting for the alerter';
}
