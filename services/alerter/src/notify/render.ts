/**
 * Payloads of each receiver, in the shape its documentation gives. `render` builds the stored body
 * (no secrets: it goes to ClickHouse as the outbox row); `prepareRequest` turns a stored body into
 * the HTTP request at delivery time — adding the PagerDuty routing key, the webhook signature and
 * Alertmanager's fresh endsAt.
 */
import type { Renderer } from '../incidents/book.ts';
import type { Incident, NotificationAction } from '../incidents/incident.ts';
import type { Receiver, RuleSet } from '../rules/load.ts';
import { signatureHeader, signBody, timestampHeader } from './signature.ts';

export const pagerDutySeverity: Record<Incident['severity'], string> = {
  critical: 'critical',
  error: 'error',
  warning: 'warning',
  info: 'info',
};

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function incidentLink(publicBaseUrl: string, incident: Pick<Incident, 'id'>): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/incidents/${encodeURIComponent(incident.id)}`;
}

/** `credential_anomaly on acct_acme` / the SQL rule's summary; capped for every receiver's limits. */
function title(incident: Incident): string {
  const what = incident.kinds.length > 0 ? incident.kinds.join(', ') : incident.rule;
  const account = incident.labels['account'];
  return `[${incident.severity.toUpperCase()}] ${what}${account ? ` on ${account}` : ''}: ${incident.summary}`.slice(
    0,
    1000,
  );
}

/** The evidence block shared by PagerDuty custom_details, the webhook and Alertmanager annotations. */
export function evidenceDetails(incident: Incident, link: string): Record<string, unknown> {
  const e = incident.evidence;
  return {
    incident_id: incident.id,
    rule: incident.rule,
    account: incident.labels['account'] ?? '',
    state: incident.state,
    severity: incident.severity,
    kinds: incident.kinds,
    detections: incident.detections,
    opened_at: iso(incident.openedAtMs),
    fired_at: iso(incident.firedAtMs),
    resolved_at: iso(incident.resolvedAtMs),
    // Who took the incident, and who closed it by hand (`floodgate incidents ack|resolve`).
    acknowledged_by: incident.acknowledgedBy || null,
    resolved_by: incident.resolvedBy || null,
    reason: e.reason,
    top_templates: e.topTemplates.slice(0, 5),
    countries: e.topCountries.slice(0, 10),
    api_keys: e.apiKeys.slice(0, 10),
    link_domains: e.linkDomains.slice(0, 10),
    counts: e.counts,
    values: e.values,
    containment: incident.containment,
    link,
    query: `SELECT * FROM alerts FINAL WHERE id = '${incident.id}'`,
  };
}

function pagerDutyBody(
  receiver: Extract<Receiver, { type: 'pagerduty' }>,
  action: NotificationAction,
  incident: Incident,
  link: string,
): unknown {
  const dedupKey = `floodgate/${incident.id}`;
  if (action === 'resolve') return { event_action: 'resolve', dedup_key: dedupKey };
  return {
    // A repeat or an escalation re-triggers the same dedup_key: PagerDuty adds it to the open alert.
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: title(incident).slice(0, 1024),
      source: receiver.source,
      severity: pagerDutySeverity[incident.severity],
      timestamp: iso(incident.firedAtMs ?? incident.openedAtMs),
      component: incident.labels['account'] ?? incident.rule,
      group: incident.rule,
      class: incident.kinds[0] ?? incident.rule,
      custom_details: evidenceDetails(incident, link),
    },
    links: [{ href: link, text: 'Open the incident in Floodgate' }],
    client: 'Floodgate',
    client_url: link,
  };
}

function alertmanagerBody(
  incident: Incident,
  link: string,
  nowMs: number,
  resendIntervalMs: number,
): unknown[] {
  const resolved = incident.state === 'resolved';
  return [
    {
      // Stable identity for Alertmanager's grouping and dedup: group labels, never the shrinking common set.
      labels: {
        ...incident.groupLabels,
        account: incident.labels['account'] ?? '',
        severity: incident.severity,
        incident_id: incident.id,
      },
      annotations: {
        summary: title(incident),
        description: incident.evidence.reason || incident.summary,
        link,
        evidence: JSON.stringify(evidenceDetails(incident, link)),
      },
      startsAt: iso(incident.firedAtMs ?? incident.openedAtMs),
      // Firing: expires unless re-sent (4 resend intervals, as Prometheus does); resolved: now.
      endsAt: iso(resolved ? (incident.resolvedAtMs ?? nowMs) : nowMs + 4 * resendIntervalMs),
      generatorURL: link,
    },
  ];
}

function slackBody(action: NotificationAction, incident: Incident, link: string): unknown {
  const resolved = action === 'resolve';
  const icon = resolved
    ? ':white_check_mark:'
    : incident.severity === 'critical'
      ? ':rotating_light:'
      : ':warning:';
  const heading = `${resolved ? 'Resolved' : action === 'update' ? 'Still firing' : 'Firing'}: ${incident.rule}${incident.labels['account'] ? ` · ${incident.labels['account']}` : ''}`;
  const e = incident.evidence;
  const fields: string[] = [`*Severity*\n${incident.severity}`, `*Detections*\n${incident.detections}`];
  if (e.topCountries.length > 0)
    fields.push(
      `*Countries*\n${e.topCountries
        .slice(0, 5)
        .map((c) => `${c.value} (${c.count})`)
        .join(', ')}`,
    );
  if (e.apiKeys.length > 0)
    fields.push(
      `*API keys*\n${e.apiKeys
        .slice(0, 3)
        .map((k) => `${k.value}${k.isNew ? ' (new)' : ''}`)
        .join(', ')}`,
    );
  for (const [name, value] of Object.entries(e.values).slice(0, 4)) fields.push(`*${name}*\n${value}`);
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: heading.slice(0, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: `${icon} ${title(incident).slice(0, 2900)}` } },
    {
      type: 'section',
      fields: fields.slice(0, 10).map((text) => ({ type: 'mrkdwn', text: text.slice(0, 2000) })),
    },
  ];
  const template = e.topTemplates[0];
  if (template && !resolved)
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `*Top template* (${template.count})\n>${template.sample.slice(0, 500)}` },
    });
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `<${link}|Open incident ${incident.id}>` }],
  });
  return { text: `${heading}: ${incident.summary}`.slice(0, 3000), blocks };
}

function webhookBody(action: NotificationAction, incident: Incident, link: string, nowMs: number): unknown {
  const body: Record<string, unknown> = {
    version: 1,
    action,
    sent_at: iso(nowMs),
    incident: {
      id: incident.id,
      rule: incident.rule,
      state: incident.state,
      severity: incident.severity,
      mode: incident.mode,
      labels: incident.labels,
      summary: incident.summary,
      link,
      evidence: evidenceDetails(incident, link),
    },
  };
  if ((action === 'contain' || action === 'lift') && incident.containment) {
    body['containment'] = {
      action: incident.containment.action,
      mode: incident.containment.mode,
      operation: action === 'contain' ? 'apply' : 'lift',
      account: incident.labels['account'] ?? '',
      api_keys: incident.evidence.apiKeys.map((k) => k.value),
      expires_at: iso(incident.containment.expiresAtMs),
    };
  }
  return body;
}

export function createRenderer(rules: RuleSet, publicBaseUrl: string): Renderer {
  return (receiverName, action, incident, nowMs) => {
    const receiver = rules.receivers.get(receiverName);
    if (!receiver) throw new Error(`unknown receiver ${receiverName}`); // excluded by validation
    const link = incidentLink(publicBaseUrl, incident);
    let body: unknown;
    switch (receiver.type) {
      case 'pagerduty':
        body = pagerDutyBody(receiver, action, incident, link);
        break;
      case 'alertmanager':
        body = alertmanagerBody(incident, link, nowMs, receiver.resendIntervalMs);
        break;
      case 'slack':
        body = slackBody(action, incident, link);
        break;
      case 'webhook':
        body = webhookBody(action, incident, link, nowMs);
        break;
    }
    return { receiverType: receiver.type, payload: JSON.stringify(body) };
  };
}

export interface PreparedRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The request for a stored payload, with what must not be stored added now. */
export function prepareRequest(
  receiver: Receiver,
  payload: string,
  notificationId: string,
  action: NotificationAction,
  nowMs: number,
): PreparedRequest {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'floodgate-alerter',
  };
  switch (receiver.type) {
    case 'pagerduty': {
      const body = JSON.parse(payload) as Record<string, unknown>;
      return {
        url: receiver.url,
        headers,
        body: JSON.stringify({ routing_key: receiver.routingKey, ...body }),
      };
    }
    case 'alertmanager': {
      const alerts = JSON.parse(payload) as { endsAt: string }[];
      // A payload delivered late (after a restart) must not claim an expiry in the past while firing.
      if (action !== 'resolve')
        for (const alert of alerts)
          alert.endsAt = new Date(nowMs + 4 * receiver.resendIntervalMs).toISOString();
      return { url: `${receiver.url}/api/v2/alerts`, headers, body: JSON.stringify(alerts) };
    }
    case 'slack':
      return { url: receiver.url, headers, body: payload };
    case 'webhook': {
      const timestampS = Math.floor(nowMs / 1000);
      headers[timestampHeader] = String(timestampS);
      headers[signatureHeader] = signBody(receiver.secret, timestampS, payload);
      headers['x-floodgate-notification-id'] = notificationId;
      return { url: receiver.url, headers, body: payload };
    }
  }
}
