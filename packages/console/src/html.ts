/**
 * Server-rendered pages. Every interpolated value is HTML-escaped unless it is `raw` markup built
 * here; chart data travels as JSON in a `<script type="application/json">` block that the page's
 * own script (assets/console.js, with uPlot, both served by this process) draws.
 */
import { detectionKinds } from '@floodgate/detect';
import type { DetectionView, IncidentView, Timeline } from './data.ts';

export class Raw {
  readonly html: string;
  constructor(html: string) {
    this.html = html;
  }
}

export const raw = (html: string): Raw => new Raw(html);

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Anything: `Raw` is kept, arrays are joined, null/undefined/false vanish, the rest is escaped text. */
type Part = unknown;

function render(part: Part): string {
  if (part instanceof Raw) return part.html;
  if (Array.isArray(part)) return part.map((p) => render(p)).join('');
  if (part === null || part === undefined || part === false) return '';
  return escapeHtml(part);
}

/** Tagged template: literal text kept, interpolations escaped (arrays joined, `raw` kept as is). */
export function html(strings: TemplateStringsArray, ...values: Part[]): Raw {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Raw(out);
}

/** JSON safe inside a <script> element (no `</script>` or `<!--` can close it). */
export function scriptJson(value: unknown): Raw {
  return raw(
    JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026'),
  );
}

export const when = (ms: number | null | undefined): string =>
  ms === null || ms === undefined || ms === 0
    ? ''
    : `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

/** ClickHouse DateTime64 text ('2026-11-25 20:01:02.345') shown to the second. */
export const stamp = (value: unknown): string =>
  value === null || value === undefined || value === '' ? '' : `${String(value).slice(0, 19)} UTC`;

export function duration(ms: number): string {
  if (ms < 60_000) return `${Math.max(0, Math.round(ms / 1000))} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
  return `${Math.floor(ms / 86_400_000)} d ${Math.round((ms % 86_400_000) / 3_600_000)} h`;
}

export const usd = (v: number): string =>
  v >= 1000 ? `$${Math.round(v).toLocaleString('en-US')}` : `$${v.toFixed(2)}`;

export interface PageContext {
  actor: string | null;
  csrf: string;
  privacy: 'masked' | 'full';
}

export function layout(title: string, context: PageContext, body: Raw, active = ''): string {
  const nav = (href: string, label: string, key: string) =>
    html`<a href="${href}" class="${active === key ? 'active' : ''}">${label}</a>`;
  return `<!doctype html>${render(html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Floodgate</title>
<link rel="stylesheet" href="/assets/uPlot.min.css">
<link rel="stylesheet" href="/assets/console.css">
</head>
<body>
<header class="top">
  <span class="brand">Floodgate</span>
  <nav>${nav('/', 'Overview', 'overview')}${nav('/incidents', 'Incidents', 'incidents')}</nav>
  ${
    context.actor
      ? html`<span class="who">${context.actor} · <span class="privacy">bodies and numbers ${context.privacy === 'full' ? 'shown as stored' : 'masked'}</span>
      <form method="post" action="/logout" class="inline"><button class="link">sign out</button></form></span>`
      : ''
  }
</header>
<main>
${body}
</main>
<script src="/assets/uPlot.iife.min.js"></script>
<script src="/assets/console.js"></script>
</body>
</html>`)}`;
}

export function loginPage(message: string, basic: boolean, token: boolean): string {
  return layout(
    'Sign in',
    { actor: null, csrf: '', privacy: 'masked' },
    html`<section class="card narrow">
  <h1>Sign in</h1>
  <p class="${message ? 'error' : 'muted'}">${message || 'The incident console needs a sign-in.'}</p>
  ${
    token
      ? html`<form method="post" action="/login">
    <input type="hidden" name="next" value="">
    <label>Your name <input name="name" autocomplete="username" required maxlength="64"></label>
    <label>Console token <input name="token" type="password" autocomplete="current-password" required></label>
    <button type="submit">Sign in</button>
    <p class="muted">Actions you take are recorded with your name.</p>
  </form>`
      : ''
  }
  ${basic ? html`<p class="muted">Or sign in with your console user name and password (HTTP basic auth).</p>` : ''}
</section>
<script>document.querySelector('input[name=next]') && (document.querySelector('input[name=next]').value = location.pathname + location.search);</script>`,
  );
}

const severityBadge = (severity: string) => html`<span class="badge sev-${severity}">${severity}</span>`;
const stateBadge = (state: string, acknowledged?: string) =>
  html`<span class="badge state-${state}">${state}${acknowledged ? ' · acked' : ''}</span>`;

function chartBlock(id: string, chart: Timeline | { x: number[]; perSecond: number[] }, kind: string): Raw {
  return html`<div class="chart" id="${id}" data-kind="${kind}" data-points="${chart.x.length}"></div>
<script type="application/json" id="${id}-data">${scriptJson(chart)}</script>`;
}

export function overviewPage(
  context: PageContext,
  view: {
    x: number[];
    perSecond: number[];
    detections: Record<string, unknown>[];
    hours: number;
    queryMs: number;
  },
  lag: { group: string; topic: string; partition: string; lag: number }[],
  open: { total: number; critical: number },
): string {
  const totalLag = lag.reduce((s, l) => s + l.lag, 0);
  const latest = view.perSecond.slice(-6, -1);
  const eventsPerSecond = latest.length > 0 ? latest.reduce((a, b) => a + b, 0) / latest.length : 0;
  return layout(
    'Overview',
    context,
    html`<h1>Pipeline health</h1>
<section class="tiles">
  <div class="tile"><div class="label">events/s (last 5 min)</div><div class="value" id="events-per-second">${eventsPerSecond.toFixed(1)}</div></div>
  <div class="tile"><div class="label">consumer lag (records)</div><div class="value" id="consumer-lag">${lag.length === 0 ? 'n/a' : totalLag}</div></div>
  <div class="tile"><div class="label">open incidents</div><div class="value"><a href="/incidents">${open.total}</a></div></div>
  <div class="tile"><div class="label">open critical</div><div class="value">${open.critical}</div></div>
</section>
<section class="card"><h2>Events per second, last ${view.hours} h (outbound, replies, statuses)</h2>${chartBlock('overview-chart', view, 'overview')}</section>
<section class="grid2">
<div class="card"><h2>Detections in the last ${view.hours} h</h2>
${
  view.detections.length === 0
    ? html`<p class="muted">None.</p>`
    : html`<table><thead><tr><th>kind</th><th>severity</th><th>count</th><th>last</th></tr></thead><tbody>
${view.detections.map((d) => html`<tr><td>${d['kind']}</td><td>${severityBadge(String(d['severity']))}</td><td class="num">${d['n']}</td><td>${stamp(d['last'])}</td></tr>`)}
</tbody></table>`
}</div>
<div class="card"><h2>Consumer lag</h2>
${
  lag.length === 0
    ? html`<p class="muted">This process runs no consumers of its own.</p>`
    : html`<table><thead><tr><th>group</th><th>topic</th><th>partition</th><th>lag</th></tr></thead><tbody>
${lag.map((l) => html`<tr><td>${l.group}</td><td>${l.topic}</td><td class="num">${l.partition}</td><td class="num">${l.lag}</td></tr>`)}
</tbody></table>`
}</div>
</section>
<p class="muted small">Queries took ${view.queryMs.toFixed(0)} ms.</p>`,
    'overview',
  );
}

export function incidentsPage(
  context: PageContext,
  rows: Record<string, unknown>[],
  filters: { state: string; severity: string; kind: string; account: string; page: number; pageSize: number },
  nowMs: number,
): string {
  const link = (page: number) =>
    `/incidents?${new URLSearchParams({ ...filters, page: String(page), pageSize: String(filters.pageSize) }).toString()}`;
  const select = (name: string, options: string[], value: string) =>
    html`<select name="${name}">${options.map((o) => html`<option value="${o}"${raw(o === value ? ' selected' : '')}>${o || 'any'}</option>`)}</select>`;
  return layout(
    'Incidents',
    context,
    html`<h1>Incidents</h1>
<form class="filters" method="get" action="/incidents">
  <label>state ${select('state', ['open', 'resolved', 'all'], filters.state)}</label>
  <label>severity ${select('severity', ['', 'critical', 'error', 'warning', 'info'], filters.severity)}</label>
  <label>kind ${select('kind', ['', ...detectionKinds], filters.kind)}</label>
  <label>account <input name="account" value="${filters.account}" size="16"></label>
  <button type="submit">Filter</button>
</form>
<table class="incidents">
<thead><tr><th>severity</th><th>state</th><th>account</th><th>kinds</th><th>started</th><th>duration</th><th>messages</th><th>cost at risk</th><th>notifications</th><th>summary</th></tr></thead>
<tbody>
${
  rows.length === 0
    ? html`<tr><td colspan="10" class="muted">No incidents match.</td></tr>`
    : rows.map((r) => {
        const opened = Number(r['opened_ms']);
        const resolved = Number(r['resolved_ms']) || 0;
        return html`<tr class="incident-row" data-id="${r['id']}">
<td>${severityBadge(String(r['severity']))}</td>
<td>${stateBadge(String(r['state']), String(r['acknowledged_by'] ?? ''))}</td>
<td><a href="/accounts/${encodeURIComponent(String(r['account']))}">${r['account']}</a></td>
<td>${((r['kinds'] as string[]) ?? []).join(', ')}</td>
<td>${stamp(r['opened_at'])}</td>
<td>${duration((resolved || nowMs) - opened)}${resolved ? '' : ' (open)'}</td>
<td class="num">${Number(r['messages']).toLocaleString('en-US')}</td>
<td class="num">${usd(Number(r['costUsd']))}</td>
<td>${r['notified']}</td>
<td><a href="/incidents/${r['id']}">${r['summary']}</a></td>
</tr>`;
      })
}
</tbody></table>
<nav class="pager">
${filters.page > 1 ? html`<a href="${link(filters.page - 1)}">← newer</a>` : ''}
<span>page ${filters.page}</span>
${rows.length === filters.pageSize ? html`<a href="${link(filters.page + 1)}">older →</a>` : ''}
</nav>`,
    'incidents',
  );
}

const counted = (items: { value: string; count: number; isNew?: boolean }[], limit = 8): Raw =>
  items.length === 0
    ? html`<span class="muted">—</span>`
    : html`${items.slice(0, limit).map((i) => html`<span class="chip${i.isNew ? ' new' : ''}">${i.value} <b>${i.count.toLocaleString('en-US')}</b>${i.isNew ? ' · new' : ''}</span>`)}`;

function detectionCard(d: DetectionView, view: IncidentView): Raw {
  const e = d.evidence;
  const metrics = Object.entries(e.metrics);
  return html`<article class="detection card" id="detection-${d.id}">
<h3>${severityBadge(d.severity)} ${d.kind} <span class="muted">on ${d.key}</span></h3>
<p>${d.reason}</p>
<dl class="facts">
  <dt>window</dt><dd>${when(d.windowStartMs)} → ${when(d.windowEndMs)}</dd>
  <dt>detected</dt><dd>${when(d.detectedAtMs)}</dd>
  <dt>observed / expected</dt><dd>${d.observed.toLocaleString('en-US')} / ${d.expected.toFixed(2)} (score ${d.score.toFixed(1)})</dd>
  <dt>messages before detection</dt><dd>${d.messagesBeforeDetection.toLocaleString('en-US')}</dd>
  <dt>cost of the window</dt><dd>${usd(d.estimatedCostUsd)}</dd>
  <dt>distinct recipients</dt><dd>${e.distinctRecipients.toLocaleString('en-US')}</dd>
  <dt>countries</dt><dd>${counted(e.topCountries)}</dd>
  <dt>number prefixes</dt><dd>${counted(e.topPrefixes)}</dd>
  <dt>API keys</dt><dd>${counted(e.apiKeys)}</dd>
  <dt>source ${view.detections.length && e.sourceIps.some((s) => s.value.includes('/')) ? 'networks' : 'IPs'}</dt><dd>${counted(e.sourceIps)}</dd>
  <dt>user agents</dt><dd>${counted(e.userAgents, 4)}</dd>
  <dt>link domains</dt><dd>${counted(e.linkDomains)}</dd>
  ${e.accountIds && e.accountIds.length > 0 ? html`<dt>accounts</dt><dd>${e.accountIds.join(', ')}</dd>` : ''}
  ${metrics.length > 0 ? html`<dt>figures</dt><dd>${metrics.map(([k, v]) => html`<span class="chip">${k} <b>${Number.isInteger(v) ? v : v.toFixed(3)}</b></span>`)}</dd>` : ''}
</dl>
${
  e.topTemplates.length > 0
    ? html`<h4>Templates (masked samples)</h4><table class="templates"><thead><tr><th>messages</th><th>sample</th></tr></thead><tbody>
${e.topTemplates.map(
  (t) =>
    html`<tr><td class="num">${t.count.toLocaleString('en-US')}${t.isNew ? html` <span class="badge new">new</span>` : ''}</td><td><code>${t.sample}</code>${(view.storedBodies[t.fingerprint] ?? []).map((b) => html`<div class="stored">stored: <code>${b}</code></div>`)}</td></tr>`,
)}
</tbody></table>`
    : ''
}
${
  e.auditEvents.length > 0
    ? html`<h4>Linked audit events</h4><table><thead><tr><th>time</th><th>action</th><th>actor</th><th>MFA</th><th>network</th><th>key</th></tr></thead><tbody>
${e.auditEvents.map(
  (a) =>
    html`<tr class="${a.mfaUsed === false || a.newNetwork ? 'warn' : ''}"><td>${when(a.timeMs)}</td><td>${a.action}</td><td>${a.actor}</td><td>${a.mfaUsed === null ? '—' : a.mfaUsed ? 'yes' : 'no'}</td><td>${a.sourceNetwork}${a.newNetwork ? ' · new' : ''}</td><td>${a.targetApiKeyId}</td></tr>`,
)}
</tbody></table>`
    : ''
}
</article>`;
}

export function incidentPage(context: PageContext, view: IncidentView, nowMs: number): string {
  const i = view.incident;
  const open = i.state !== 'resolved';
  const csrf = html`<input type="hidden" name="csrf" value="${context.csrf}">`;
  const kinds = i.kinds.length > 0 ? i.kinds : [''];
  return layout(
    `Incident ${i.id.slice(0, 12)}`,
    context,
    html`<div class="incident-head">
  <h1>${severityBadge(i.severity)} ${i.kinds.join(', ') || i.rule} on <a href="/accounts/${encodeURIComponent(view.account)}">${view.account || '—'}</a></h1>
  <p class="summary">${i.summary}</p>
  <p>${stateBadge(i.state, i.acknowledgedBy)} <span id="incident-state" data-state="${i.state}" data-acknowledged-by="${i.acknowledgedBy ?? ''}">${i.state}${i.acknowledgedBy ? `, acknowledged by ${i.acknowledgedBy} ${when(i.acknowledgedAtMs)}` : ''}${i.resolvedBy ? `, resolved by ${i.resolvedBy}` : ''}</span>
  · rule <b>${i.rule}</b> (${i.mode}) · opened ${when(i.openedAtMs)} · ${open ? `open for ${duration(nowMs - i.openedAtMs)}` : `lasted ${duration((i.resolvedAtMs ?? nowMs) - i.openedAtMs)}`}${i.silencedBy ? ` · silenced by ${i.silencedBy}` : ''}</p>
</div>
<section class="tiles">
  <div class="tile"><div class="label">messages since the anomaly began</div><div class="value" id="messages-involved">${view.messagesInvolved.toLocaleString('en-US')}</div></div>
  <div class="tile"><div class="label">sent before detection</div><div class="value">${view.messagesBeforeDetection.toLocaleString('en-US')}</div></div>
  <div class="tile"><div class="label">cost at risk (largest window)</div><div class="value">${usd(view.costAtRiskUsd)}</div></div>
  <div class="tile"><div class="label">detections</div><div class="value">${view.detections.length}</div></div>
</section>
<section class="card">
  <h2>Traffic per minute</h2>
  <p class="muted small">Messages sent by ${view.account} (left axis) with ${view.chart.baselineNote}; opt-outs per message sent and failed share of final statuses, % (right axis); detections as markers.</p>
  ${chartBlock('incident-chart', view.chart, 'incident')}
</section>
${
  open
    ? html`<section class="card actions"><h2>Act</h2>
<form method="post" action="/incidents/${i.id}/ack" class="inline">${csrf}<input name="note" placeholder="note (optional)" maxlength="500"><button type="submit" id="ack-button"${raw(i.acknowledgedBy ? ' disabled' : '')}>Acknowledge</button></form>
<form method="post" action="/incidents/${i.id}/resolve" class="inline">${csrf}<input name="note" placeholder="note (optional)" maxlength="500"><button type="submit" id="resolve-button">Resolve</button></form>
<form method="post" action="/incidents/${i.id}/silence" class="inline">${csrf}
  Silence <select name="kind">${kinds.map((k) => html`<option value="${k}">${k ? `${k} on this account` : 'this account'}</option>`)}<option value="">every kind on this account</option></select>
  for <select name="duration"><option value="1h">1 hour</option><option value="4h">4 hours</option><option value="24h">24 hours</option><option value="7d">7 days</option></select>
  <input name="comment" placeholder="why (required)" required maxlength="500"><button type="submit" id="silence-button">Silence</button></form>
<p class="muted small">Recorded as ${context.actor}; the same operations as <code>floodgate incidents ack|resolve</code> and <code>floodgate silence add</code>.</p>
</section>`
    : ''
}
<section>
<h2>Evidence</h2>
${view.detections.length === 0 ? html`<p class="muted">No detections of this incident's kinds were found for the account in its time range.</p>` : view.detections.map((d) => detectionCard(d, view))}
</section>
${
  view.auditEvents.length > 0
    ? html`<section class="card"><h2>Account audit events in the chart's range</h2><table><thead><tr><th>time</th><th>action</th><th>actor</th><th>MFA</th><th>source</th><th>key</th></tr></thead><tbody>
${view.auditEvents.map((a) => html`<tr class="${a['mfa_used'] === false ? 'warn' : ''}"><td>${when(Number(a['time_ms']))}</td><td>${a['action']}</td><td>${a['actor']}</td><td>${a['mfa_used'] === null ? '—' : a['mfa_used'] ? 'yes' : 'no'}</td><td>${a['source_ip']}</td><td>${a['api_key_id']}</td></tr>`)}
</tbody></table></section>`
    : ''
}
<section class="grid2">
<div class="card"><h2>Notifications</h2>
${
  view.notifications.length === 0
    ? html`<p class="muted">None sent.</p>`
    : html`<table id="notifications"><thead><tr><th>receiver</th><th>action</th><th>status</th><th>attempts</th><th>created</th><th>delivered</th><th>reason</th></tr></thead><tbody>
${view.notifications.map((n) => html`<tr><td>${n['receiver']}</td><td>${n['action']}</td><td><span class="badge status-${String(n['status'])}">${n['status']}</span></td><td class="num">${n['attempts']}</td><td>${stamp(n['created_at'])}</td><td>${stamp(n['delivered_at'])}</td><td>${n['reason']}</td></tr>`)}
</tbody></table>`
}
<h2>Containment</h2>
${
  i.containment
    ? html`<p>${i.containment.action} via ${i.containment.receiver} — <b>${i.containment.mode === 'enforce' ? 'enforced' : 'dry-run'}</b>, applied ${when(i.containment.appliedAtMs)}, ${i.containment.active ? `active until ${when(i.containment.expiresAtMs)}` : 'lifted'}</p>`
    : html`<p class="muted">No containment action for this incident's rule.</p>`
}
</div>
<div class="card"><h2>Timeline of the incident</h2>
<table><thead><tr><th>at</th><th>change</th><th>by</th><th>reason</th></tr></thead><tbody>
${view.transitions.map((t) => html`<tr><td>${stamp(t['at'])}</td><td>${t['from_state']} → ${t['to_state']}</td><td>${t['actor'] || 'alerter'}</td><td>${t['reason']}</td></tr>`)}
</tbody></table>
${
  view.actions.length > 0
    ? html`<h2>Actions by people</h2><table id="actions"><thead><tr><th>at</th><th>action</th><th>by</th><th>state</th><th>note</th></tr></thead><tbody>
${view.actions.map((a) => html`<tr><td>${stamp(a['at'])}</td><td>${a['action']}</td><td>${a['actor']}</td><td>${a.applied}</td><td>${a['note']}</td></tr>`)}
</tbody></table>`
    : ''
}
</div>
</section>
<p class="muted small">Page data in ${view.queryMs.toFixed(0)} ms · <a href="/api/incidents/${i.id}">JSON</a></p>`,
    'incidents',
  );
}

export function accountPage(
  context: PageContext,
  view: {
    accountId: string;
    chart: Timeline;
    keys: Record<string, unknown>[];
    usage: Record<string, unknown>[];
    incidents: Record<string, unknown>[];
    queryMs: number;
  },
): string {
  const usage = new Map(view.usage.map((u) => [String(u['api_key_id']), u]));
  const keyIds = [...new Set([...view.keys.map((k) => String(k['key_id'])), ...usage.keys()])];
  const inventory = new Map(view.keys.map((k) => [String(k['key_id']), k]));
  const list = (v: unknown) => ((v as string[] | undefined) ?? []).join(', ') || 'any';
  return layout(
    `Account ${view.accountId}`,
    context,
    html`<h1>Account ${view.accountId}</h1>
<section class="card"><h2>Traffic, last 7 days (per 10 minutes)</h2>
<p class="muted small">Messages sent per 10 minutes with ${view.chart.baselineNote}; opt-out and failure shares on the right axis.</p>
${chartBlock('account-chart', view.chart, 'incident')}</section>
<section class="card"><h2>API keys</h2>
<table><thead><tr><th>key</th><th>owner</th><th>third party</th><th>allowed networks</th><th>allowed countries</th><th>messages (7 d)</th><th>last used</th><th>used from</th><th>countries sent to</th></tr></thead><tbody>
${keyIds.map((id) => {
  const k = inventory.get(id);
  const u = usage.get(id);
  return html`<tr><td>${id}${k ? '' : html` <span class="badge new">not in inventory</span>`}</td><td>${k?.['owner'] ?? ''}</td><td>${k?.['third_party'] ?? ''}</td><td>${k ? list(k['allowed_networks']) : ''}</td><td>${k ? list(k['allowed_countries']) : ''}</td>
<td class="num">${u ? Number(u['messages']).toLocaleString('en-US') : 0}</td><td>${stamp(u?.['last_used'])}</td><td>${((u?.['networks'] as string[]) ?? []).join(', ')}${u && Number(u['distinct_ips']) > 5 ? ` (${u['distinct_ips']} addresses)` : ''}</td><td>${((u?.['countries'] as string[]) ?? []).join(', ')}</td></tr>`;
})}
</tbody></table></section>
<section class="card"><h2>Incidents</h2>
<table><thead><tr><th>severity</th><th>state</th><th>kinds</th><th>opened</th><th>summary</th></tr></thead><tbody>
${
  view.incidents.length === 0
    ? html`<tr><td colspan="5" class="muted">None.</td></tr>`
    : view.incidents.map(
        (r) =>
          html`<tr><td>${severityBadge(String(r['severity']))}</td><td>${stateBadge(String(r['state']), String(r['acknowledged_by'] ?? ''))}</td><td>${((r['kinds'] as string[]) ?? []).join(', ')}</td><td>${stamp(r['opened_at'])}</td><td><a href="/incidents/${r['id']}">${r['summary']}</a></td></tr>`,
      )
}
</tbody></table></section>
<p class="muted small">Page data in ${view.queryMs.toFixed(0)} ms.</p>`,
  );
}

export function messagePage(context: PageContext, title: string, message: string, status = ''): string {
  return layout(
    title,
    context,
    html`<section class="card narrow"><h1>${title}</h1><p>${message}</p>${status ? html`<p class="muted">${status}</p>` : ''}<p><a href="/incidents">All incidents</a></p></section>`,
  );
}
