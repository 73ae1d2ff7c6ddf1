import type { Detection } from '@floodgate/detect';
import { describe, expect, it } from 'vitest';
import { detectionInstance } from '../detection-instance.ts';
import { type DetectionRule, parseRules, type RuleSet } from '../rules/load.ts';
import type { Silence } from '../silences/silences.ts';
import { IncidentBook } from './book.ts';
import type { Incident, IncidentAction } from './incident.ts';

const rulesYaml = `
receivers:
  - { name: am, type: alertmanager, url: "http://am:9093" }
  - { name: hook, type: webhook, url: "http://hook", secret: s }
rules:
  - name: page
    receivers: [am]
    resolve_after: 10s
    repeat_interval: 1m
    containment: { receiver: hook, expires_after: 30s }
  - name: slow
    receivers: [am]
    for: 5s
    resolve_after: 3s
    match: { kinds: [volume_spike] }
  - name: trial
    mode: shadow
    receivers: [am]
    match: { kinds: [opt_out_spike] }
`;

function setup(silences: Silence[] = []): { rules: RuleSet; book: IncidentBook } {
  const rules = parseRules(rulesYaml, 'r.yaml');
  const book = new IncidentBook(
    rules,
    (receiver, action) => ({ receiverType: receiver, payload: action }),
    () => silences,
  );
  return { rules, book };
}

const detection = (id: string, over: Partial<Detection> = {}): Detection =>
  ({
    id,
    kind: 'credential_anomaly',
    accountId: 'acct_1',
    key: 'account',
    windowStartMs: 0,
    windowEndMs: 0,
    detectedAtMs: 0,
    observed: 10,
    expected: 1,
    score: 9,
    severity: 'critical',
    labels: {},
    evidence: {
      reason: 'r',
      topTemplates: [],
      topCountries: [],
      topPrefixes: [],
      apiKeys: [{ value: 'key_1', count: 3 }],
      sourceIps: [],
      userAgents: [],
      linkDomains: [],
      auditEvents: [],
      distinctRecipients: 1,
      estimatedCostUsd: 0,
      messagesBeforeDetection: 0,
      anomalyStartMs: 0,
      metrics: {},
      detectorVersion: 'x',
    },
    ...over,
  }) as Detection;

const ruleNamed = (rules: RuleSet, name: string) => rules.rules.find((r) => r.name === name) as DetectionRule;

describe('incident book', () => {
  it('fires once per account, ignores a replayed detection, repeats after repeat_interval and resolves after the quiet period', () => {
    const { rules, book } = setup();
    const page = ruleNamed(rules, 'page');
    book.observe(page, detectionInstance(page, detection('d1')), 0, 'd1');
    let changes = book.drain();
    expect(changes.notifications.map((n) => `${n.receiver}:${n.action}:${n.status}`)).toEqual([
      'am:trigger:pending',
      'hook:contain:pending',
    ]);
    book.observe(page, detectionInstance(page, detection('d1')), 1_000, 'd1');
    book.observe(page, detectionInstance(page, detection('d2')), 2_000, 'd2');
    book.tick(5_000);
    expect(book.drain().notifications, 'no second page for the same account').toEqual([]);
    expect(book.openIncidents()[0]?.detections).toBe(2);
    book.observe(page, detectionInstance(page, detection('d3')), 61_000, 'd3');
    book.tick(61_000);
    // The repeat, and the containment renewed at its expiry because detections kept coming.
    expect(book.drain().notifications.map((n) => n.action)).toEqual(['update', 'contain']);
    book.tick(71_000);
    changes = book.drain();
    expect(changes.notifications.map((n) => `${n.receiver}:${n.action}`)).toEqual([
      'am:resolve',
      'hook:lift',
    ]);
    expect(changes.incidents[0]?.state).toBe('resolved');
    expect(book.openIncidents()).toEqual([]);
  });

  it('creates the same notification ids when the same detections are replayed into a fresh book', () => {
    const ids = () => {
      const { rules, book } = setup();
      const page = ruleNamed(rules, 'page');
      book.observe(page, detectionInstance(page, detection('d1')), 0, 'd1');
      return book.drain().notifications.map((n) => n.id);
    };
    expect(ids()).toEqual(ids());
  });

  it('keeps an incident pending until `for` has passed, and drops it if the condition stops first', () => {
    const { rules, book } = setup();
    const slow = ruleNamed(rules, 'slow');
    book.observe(slow, detectionInstance(slow, detection('v1', { kind: 'volume_spike' })), 0, 'v1');
    book.tick(2_000);
    expect(book.drain().notifications).toEqual([]);
    book.observe(slow, detectionInstance(slow, detection('v2', { kind: 'volume_spike' })), 4_000, 'v2');
    book.tick(5_000);
    expect(book.drain().notifications.map((n) => n.action)).toEqual(['trigger']);

    const other = setup();
    const slow2 = ruleNamed(other.rules, 'slow');
    other.book.observe(slow2, detectionInstance(slow2, detection('v1', { kind: 'volume_spike' })), 0, 'v1');
    other.book.tick(3_500);
    const dropped = other.book.drain();
    expect(dropped.notifications).toEqual([]);
    expect(dropped.transitions.map((t) => t.to)).toEqual(['pending', 'resolved']);
  });

  it('records a silenced trigger without sending it, and sends it when the silence ends', () => {
    const silence: Silence = {
      id: 's1',
      matchers: [{ name: 'account', value: 'acct_1', op: '=' }],
      startsAtMs: 0,
      endsAtMs: 10_000,
      createdBy: 't',
      comment: '',
      createdAtMs: 0,
    };
    const { rules, book } = setup([silence]);
    const page = ruleNamed(rules, 'page');
    book.observe(page, detectionInstance(page, detection('d1')), 1_000, 'd1');
    const silenced = book.drain().notifications;
    expect(silenced.find((n) => n.receiver === 'am')?.status).toBe('silenced');
    book.observe(page, detectionInstance(page, detection('d2')), 10_500, 'd2');
    book.tick(10_500);
    expect(
      book
        .drain()
        .notifications.filter((n) => n.receiver === 'am')
        .map((n) => `${n.action}:${n.status}`),
    ).toEqual(['trigger:pending']);
  });

  it('shadow rules record what they would send and never queue a delivery', () => {
    const { rules, book } = setup();
    const trial = ruleNamed(rules, 'trial');
    book.observe(trial, detectionInstance(trial, detection('o1', { kind: 'opt_out_spike' })), 0, 'o1');
    book.tick(16 * 60_000);
    const statuses = book.drain().notifications.map((n) => `${n.action}:${n.status}`);
    expect(statuses).toEqual(['trigger:shadow', 'resolve:shadow']);
  });

  it('on restore resolves an incident whose rule was removed, so its pager does not stay open', () => {
    const { rules, book } = setup();
    const page = ruleNamed(rules, 'page');
    book.observe(page, detectionInstance(page, detection('d1')), 0, 'd1');
    const [stored] = book.drain().incidents;
    const renamed = { ...stored, rule: 'page-old' } as NonNullable<typeof stored>;
    const fresh = setup().book;
    fresh.restore([renamed, { ...renamed, id: 'gone', state: 'resolved' }], 5_000, new Set(['am', 'hook']));
    const changes = fresh.drain();
    expect(fresh.openIncidents()).toEqual([]);
    expect(changes.incidents.map((i) => `${i.id}:${i.state}`)).toEqual([`${renamed.id}:resolved`]);
    expect(changes.notifications.map((n) => `${n.receiver}:${n.action}`)).toEqual([
      'am:resolve',
      'hook:lift',
    ]);
  });
});

describe('incident book: people acting on incidents', () => {
  const action = (
    id: string,
    incidentId: string,
    kind: IncidentAction['action'],
    actor = 'alice',
    note = '',
  ): IncidentAction => ({ id, incidentId, action: kind, actor, note, atMs: 0 });
  const warning = (id: string) => detection(id, { severity: 'warning' });

  it('an acknowledgement records who and when, stops repeats, and ends when the incident escalates', () => {
    const { rules, book } = setup();
    const page = ruleNamed(rules, 'page');
    book.observe(page, detectionInstance(page, warning('d1')), 0, 'd1');
    const incidentId = book.drain().incidents[0]?.id as string;
    expect(book.applyAction(action('a1', incidentId, 'ack', 'alice', 'looking'), 1_000)).toBe('applied');
    let changes = book.drain();
    expect(changes.incidents[0]).toMatchObject({
      state: 'firing',
      acknowledgedBy: 'alice',
      acknowledgedAtMs: 1_000,
      acknowledgedNote: 'looking',
      appliedActionIds: ['a1'],
    });
    expect(changes.transitions.map((t) => `${t.from}>${t.to}:${t.actor}:${t.reason}`)).toEqual([
      'firing>acknowledged:alice:acknowledged by alice: looking',
    ]);
    expect(changes.notifications, 'an acknowledgement sends nothing').toEqual([]);

    // Past repeat_interval (1m) while acknowledged: no repeat.
    book.observe(page, detectionInstance(page, warning('d2')), 60_000, 'd2');
    book.tick(61_000);
    expect(book.drain().notifications, 'no repeat while acknowledged').toEqual([]);

    // Worse than when it was acknowledged: notified at once, and repeats resume.
    book.observe(page, detectionInstance(page, detection('d3')), 62_000, 'd3');
    changes = book.drain();
    expect(changes.transitions.map((t) => `${t.to}:${t.reason}`)).toEqual([
      'escalated:severity now critical',
      'unacknowledged:severity escalated to critical',
      'contained:suspend_api_keys (dry-run)',
    ]);
    expect(changes.notifications.map((n) => `${n.receiver}:${n.action}`)).toEqual([
      'am:update',
      'hook:contain',
    ]);
    expect(book.openIncidents()[0]?.acknowledgedBy).toBe('');
    book.observe(page, detectionInstance(page, detection('d4')), 121_000, 'd4');
    book.tick(122_000);
    expect(
      book
        .drain()
        .notifications.filter((n) => n.receiver === 'am')
        .map((n) => n.action),
      'repeats resume after the acknowledgement ended',
    ).toEqual(['update']);
  });

  it('withdrawing an acknowledgement lets the overdue repeat go out at the next tick', () => {
    const { rules, book } = setup();
    const page = ruleNamed(rules, 'page');
    book.observe(page, detectionInstance(page, warning('d1')), 0, 'd1');
    const incidentId = book.drain().incidents[0]?.id as string;
    book.applyAction(action('a1', incidentId, 'ack'), 1_000);
    book.observe(page, detectionInstance(page, warning('d2')), 65_000, 'd2');
    book.tick(65_000);
    expect(book.drain().notifications).toEqual([]);
    expect(book.applyAction(action('a2', incidentId, 'unack', 'bob'), 66_000)).toBe('applied');
    expect(book.applyAction(action('a3', incidentId, 'unack', 'bob'), 66_000)).toBe('unchanged');
    book.tick(66_000);
    const changes = book.drain();
    expect(changes.transitions.map((t) => `${t.to}:${t.actor}`)).toEqual(['unacknowledged:bob']);
    expect(changes.notifications.map((n) => `${n.receiver}:${n.action}`)).toEqual(['am:update']);
  });

  it('a manual resolve ends the incident now, resolves every triggered receiver, and the next detection opens a new incident', () => {
    const { rules, book } = setup();
    const page = ruleNamed(rules, 'page');
    book.observe(page, detectionInstance(page, detection('d1')), 0, 'd1');
    const first = book.drain();
    const incidentId = first.incidents[0]?.id as string;
    expect(first.notifications.map((n) => `${n.receiver}:${n.action}`)).toEqual([
      'am:trigger',
      'hook:contain',
    ]);
    expect(book.applyAction(action('r1', incidentId, 'resolve', 'carol', 'key rotated'), 3_000)).toBe(
      'applied',
    );
    const changes = book.drain();
    expect(changes.incidents[0]).toMatchObject({
      id: incidentId,
      state: 'resolved',
      resolvedAtMs: 3_000,
      resolvedBy: 'carol',
    });
    expect(changes.transitions.map((t) => `${t.from}>${t.to}:${t.actor}:${t.reason}`)).toEqual([
      'firing>resolved:carol:resolved by carol: key rotated',
      'resolved>lifted::incident resolved',
    ]);
    expect(changes.notifications.map((n) => `${n.receiver}:${n.action}:${n.status}`)).toEqual([
      'am:resolve:pending',
      'hook:lift:pending',
    ]);
    expect(book.openIncidents()).toEqual([]);
    expect(book.applyAction(action('r2', incidentId, 'ack'), 4_000), 'a resolved incident is not open').toBe(
      'not-open',
    );

    book.observe(page, detectionInstance(page, detection('d2')), 5_000, 'd2');
    const reopened = book.drain();
    expect(reopened.incidents[0]?.id, 'a new incident, not the resolved one').not.toBe(incidentId);
    expect(reopened.notifications.map((n) => `${n.receiver}:${n.action}`)).toEqual([
      'am:trigger',
      'hook:contain',
    ]);
  });

  it('resolving a pending incident by hand sends nothing (nothing was triggered)', () => {
    const { rules, book } = setup();
    const slow = ruleNamed(rules, 'slow');
    book.observe(slow, detectionInstance(slow, detection('v1', { kind: 'volume_spike' })), 0, 'v1');
    const incidentId = book.drain().incidents[0]?.id as string;
    expect(book.applyAction(action('r1', incidentId, 'resolve'), 1_000)).toBe('applied');
    const changes = book.drain();
    expect(changes.transitions.map((t) => `${t.from}>${t.to}`)).toEqual(['pending>resolved']);
    expect(changes.notifications).toEqual([]);
  });

  it('applies each action once, also after a restore from the stored version', () => {
    const { rules, book } = setup();
    const page = ruleNamed(rules, 'page');
    book.observe(page, detectionInstance(page, warning('d1')), 0, 'd1');
    book.drain();
    const incidentId = book.openIncidents()[0]?.id as string;
    const ack = action('a1', incidentId, 'ack');
    expect(book.applyAction(ack, 1_000)).toBe('applied');
    expect(book.applyAction(ack, 2_000)).toBe('duplicate');
    const stored = book.drain().incidents;
    expect(stored.length).toBe(1);

    // Another process restores the stored version (as JSON) and reads the same action again.
    const restarted = setup().book;
    restarted.restore(JSON.parse(JSON.stringify(stored)), 5_000, new Set(['am', 'hook']));
    expect(restarted.applyAction(ack, 5_000)).toBe('duplicate');
    expect(restarted.drain().transitions).toEqual([]);
    expect(restarted.openIncidents()[0]?.acknowledgedAtMs, 'the acknowledgement survives the restart').toBe(
      1_000,
    );
    expect(restarted.applyAction(action('x', 'no-such-incident', 'resolve'), 5_000)).toBe('not-open');
  });

  it('restores incidents stored before acknowledgements existed', () => {
    const { rules, book } = setup();
    const page = ruleNamed(rules, 'page');
    book.observe(page, detectionInstance(page, warning('d1')), 0, 'd1');
    const stored = book.drain().incidents[0] as Incident;
    const legacy: Partial<Incident> = { ...stored };
    delete legacy.acknowledgedBy;
    delete legacy.acknowledgedAtMs;
    delete legacy.acknowledgedNote;
    delete legacy.resolvedBy;
    delete legacy.appliedActionIds;
    const restarted = setup().book;
    restarted.restore([legacy as Incident], 1_000, new Set(['am', 'hook']));
    expect(restarted.applyAction(action('a1', stored.id, 'ack'), 2_000)).toBe('applied');
    expect(restarted.openIncidents()[0]).toMatchObject({ acknowledgedBy: 'alice', appliedActionIds: ['a1'] });
  });
});
