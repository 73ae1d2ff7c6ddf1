/**
 * The incident book: open incidents by (rule, group), and the state machine that moves them
 * pending → firing → resolved as alert instances arrive and time passes. It decides which
 * notifications to create (with deterministic ids, so a replay after a crash recreates the same
 * ids instead of new pages) and whether each is sent, silenced or only recorded (shadow mode).
 * People act on it too (`applyAction`): an acknowledgement stops repeats until the incident
 * escalates, a manual resolve ends it now. No I/O: callers drain the changes and persist them
 * before anything is delivered.
 */
import type { DetectionRule, Rule, RuleSet, SqlRule } from '../rules/load.ts';
import { groupKeyOf, maxSeverity, severityAtLeast } from '../rules/match.ts';
import type { AlertSeverity } from '../rules/schema.ts';
import { findSilence, type Silence } from '../silences/silences.ts';
import {
  hashId,
  type Incident,
  type IncidentAction,
  type IncidentEvidence,
  type NotificationAction,
  type NotificationRecord,
  type Transition,
  withDefaults,
} from './incident.ts';

export interface AlertInstance {
  labels: Record<string, string>;
  severity: AlertSeverity;
  summary: string;
  evidence: IncidentEvidence;
  kind?: string;
  /** Detection rules: the detection's id (replays are recognised by it). */
  detectionId?: string;
}

export interface Changes {
  incidents: Incident[];
  transitions: Transition[];
  notifications: NotificationRecord[];
}

export type Renderer = (
  receiver: string,
  action: NotificationAction,
  incident: Incident,
  nowMs: number,
) => {
  receiverType: string;
  payload: string;
};

/** What became of a person's action: `duplicate` = applied before (possibly before a restart). */
export type ActionOutcome = 'applied' | 'unchanged' | 'duplicate' | 'not-open';

const recentIdsKept = 200;
const appliedActionIdsKept = 200;

export class IncidentBook {
  private readonly open = new Map<string, Incident>();
  private changed = new Map<string, Incident>();
  private transitions: Transition[] = [];
  private notifications: NotificationRecord[] = [];
  private readonly rulesByName: Map<string, Rule>;
  private readonly render: Renderer;
  private readonly silences: () => readonly Silence[];

  constructor(rules: RuleSet, render: Renderer, silences: () => readonly Silence[]) {
    this.rulesByName = new Map(rules.rules.map((r) => [r.name, r]));
    this.render = render;
    this.silences = silences;
  }

  /**
   * Re-adopts incidents loaded from storage (not resolved); their notifications already happened.
   * An incident whose rule was removed from the file is resolved now, so no pager stays open.
   */
  restore(incidents: readonly Incident[], nowMs: number, receivers: ReadonlySet<string>): void {
    for (const stored of incidents) {
      const incident = withDefaults(stored);
      if (incident.state === 'resolved') continue;
      if (this.rulesByName.has(incident.rule)) {
        this.open.set(this.keyOf(incident.rule, incident.groupKey), incident);
        continue;
      }
      const from = incident.state;
      incident.state = 'resolved';
      incident.resolvedAtMs = nowMs;
      this.touch(incident);
      this.transition(incident, from, 'resolved', 'its rule was removed from the rules file', nowMs);
      if (from === 'firing')
        for (const receiver of incident.notified)
          if (receivers.has(receiver))
            this.notify(
              incident,
              receiver,
              'resolve',
              incident.mode === 'shadow' ? 'shadow' : 'pending',
              nowMs,
            );
      if (incident.containment?.active && receivers.has(incident.containment.receiver))
        this.lift(incident, nowMs, 'its rule was removed from the rules file');
    }
  }

  openIncidents(): Incident[] {
    return [...this.open.values()];
  }

  /** What changed since the last drain: incidents to store, transitions to log, notifications to write. */
  drain(): Changes {
    const changes = {
      incidents: [...this.changed.values()].map((i) => structuredClone(i)),
      transitions: this.transitions,
      notifications: this.notifications,
    };
    this.changed = new Map();
    this.transitions = [];
    this.notifications = [];
    return changes;
  }

  /** A matching alert instance (a detection, or a SQL rule's row) at `nowMs`. */
  observe(rule: Rule, instance: AlertInstance, nowMs: number, openingBasis: string): void {
    const groupKey = groupKeyOf(rule.groupBy, instance.labels);
    const key = this.keyOf(rule.name, groupKey);
    let incident = this.open.get(key);
    if (incident && instance.detectionId && incident.recentDetectionIds.includes(instance.detectionId))
      return;
    if (!incident) {
      const groupLabels: Record<string, string> = { alertname: rule.name };
      for (const name of rule.groupBy ?? Object.keys(instance.labels))
        groupLabels[name] = instance.labels[name] ?? '';
      incident = {
        id: hashId(rule.name, groupKey, openingBasis),
        rule: rule.name,
        ruleType: rule.type,
        groupKey,
        groupLabels,
        labels: { ...instance.labels, ...groupLabels, account: instance.labels['account'] ?? '' },
        state: 'pending',
        severity: instance.severity,
        mode: rule.mode,
        summary: instance.summary,
        openedAtMs: nowMs,
        firedAtMs: null,
        lastMatchAtMs: nowMs,
        resolvedAtMs: null,
        silencedBy: '',
        absent: false,
        detections: 0,
        recentDetectionIds: [],
        kinds: [],
        evidence: instance.evidence,
        notified: [],
        lastNotifiedAtMs: 0,
        notificationSeq: 0,
        containment: null,
        acknowledgedBy: '',
        acknowledgedAtMs: null,
        acknowledgedNote: '',
        resolvedBy: '',
        appliedActionIds: [],
      };
      this.open.set(key, incident);
      this.transition(
        incident,
        'none',
        'pending',
        `opened by ${instance.detectionId ?? 'evaluation'}`,
        nowMs,
      );
    }
    // Like Alertmanager's common labels: what every instance of the incident shares (silences match these).
    for (const [name, value] of Object.entries(incident.labels))
      if (!(name in incident.groupLabels) && name !== 'account' && instance.labels[name] !== value)
        delete incident.labels[name];
    const escalated = incident.severity !== maxSeverity(incident.severity, instance.severity);
    incident.severity = maxSeverity(incident.severity, instance.severity);
    // The evidence shown is that of the strongest instance so far (ties: the newest).
    if (incident.severity === instance.severity) {
      incident.evidence = instance.evidence;
      incident.summary = instance.summary;
    }
    incident.lastMatchAtMs = nowMs;
    incident.absent = false;
    if (instance.detectionId) {
      incident.detections++;
      incident.recentDetectionIds.push(instance.detectionId);
      if (incident.recentDetectionIds.length > recentIdsKept) incident.recentDetectionIds.shift();
    }
    if (instance.kind && !incident.kinds.includes(instance.kind)) incident.kinds.push(instance.kind);
    this.touch(incident);
    if (incident.state === 'pending' && nowMs - incident.openedAtMs >= rule.forMs)
      this.fire(rule, incident, nowMs);
    else if (incident.state === 'firing') {
      if (escalated) {
        this.transition(incident, 'firing', 'escalated', `severity now ${incident.severity}`, nowMs);
        // An acknowledgement covers the incident as it was: a worse one notifies and repeats again.
        if (incident.acknowledgedBy)
          this.unacknowledge(incident, `severity escalated to ${incident.severity}`, '', nowMs);
        this.notifyAll(rule, incident, 'update', nowMs);
      }
      if (rule.type === 'detection') this.maybeContain(rule, incident, nowMs);
    }
  }

  /** A SQL rule's evaluation returned `present` group keys: the others are absent from now on. */
  markAbsent(rule: SqlRule, present: ReadonlySet<string>, nowMs: number): void {
    for (const incident of this.open.values()) {
      if (incident.rule !== rule.name || present.has(incident.groupKey)) continue;
      incident.absent = true;
      if (nowMs - incident.lastMatchAtMs >= rule.resolveAfterMs)
        this.resolve(rule, incident, nowMs, 'no longer returned by the query');
    }
  }

  /** Time-driven changes: `for` elapsed, quiet periods, repeats, silences starting or ending, containment expiry. */
  tick(nowMs: number): void {
    for (const incident of [...this.open.values()]) {
      const rule = this.rulesByName.get(incident.rule);
      if (!rule) continue;
      const quiet =
        rule.type === 'detection' ? nowMs - incident.lastMatchAtMs >= rule.resolveAfterMs : incident.absent;
      if (incident.state === 'pending') {
        if (quiet) this.resolve(rule, incident, nowMs, 'condition did not hold for the `for` duration');
        else if (nowMs - incident.openedAtMs >= rule.forMs) this.fire(rule, incident, nowMs);
        continue;
      }
      if (rule.type === 'detection' && quiet) {
        this.resolve(
          rule,
          incident,
          nowMs,
          `no matching detection for ${Math.round((nowMs - incident.lastMatchAtMs) / 1000)} s`,
        );
        continue;
      }
      this.applySilence(rule, incident, nowMs);
      if (
        !incident.silencedBy &&
        !incident.acknowledgedBy &&
        incident.notified.length > 0 &&
        nowMs - incident.lastNotifiedAtMs >= rule.repeatIntervalMs
      )
        this.notifyAll(rule, incident, 'update', nowMs);
      if (rule.type === 'detection') this.containmentExpiry(rule, incident, nowMs);
    }
  }

  /**
   * A person's action on an open incident, applied once: its id is kept in the incident (and so in
   * its stored version), and an action seen again — re-read, or re-read after a restart — is a duplicate.
   */
  applyAction(action: IncidentAction, nowMs: number): ActionOutcome {
    let incident: Incident | undefined;
    for (const candidate of this.open.values())
      if (candidate.id === action.incidentId) {
        incident = candidate;
        break;
      }
    if (!incident) return 'not-open';
    if (incident.appliedActionIds.includes(action.id)) return 'duplicate';
    incident.appliedActionIds.push(action.id);
    if (incident.appliedActionIds.length > appliedActionIdsKept) incident.appliedActionIds.shift();
    this.touch(incident);
    const by = `by ${action.actor}${action.note ? `: ${action.note}` : ''}`;
    switch (action.action) {
      case 'ack':
        incident.acknowledgedBy = action.actor;
        incident.acknowledgedAtMs = nowMs;
        incident.acknowledgedNote = action.note;
        this.transition(incident, incident.state, 'acknowledged', `acknowledged ${by}`, nowMs, action.actor);
        return 'applied';
      case 'unack':
        if (!incident.acknowledgedBy) return 'unchanged';
        this.unacknowledge(incident, `acknowledgement withdrawn ${by}`, action.actor, nowMs);
        return 'applied';
      case 'resolve': {
        const rule = this.rulesByName.get(incident.rule);
        if (!rule) return 'unchanged'; // restore() resolves incidents of removed rules
        incident.resolvedBy = action.actor;
        this.resolve(rule, incident, nowMs, `resolved ${by}`, action.actor);
        return 'applied';
      }
    }
  }

  private unacknowledge(incident: Incident, reason: string, actor: string, nowMs: number): void {
    incident.acknowledgedBy = '';
    incident.acknowledgedAtMs = null;
    incident.acknowledgedNote = '';
    this.touch(incident);
    this.transition(incident, incident.state, 'unacknowledged', reason, nowMs, actor);
  }

  private fire(rule: Rule, incident: Incident, nowMs: number): void {
    incident.state = 'firing';
    incident.firedAtMs = nowMs;
    this.touch(incident);
    this.transition(incident, 'pending', 'firing', incident.summary, nowMs);
    this.applySilence(rule, incident, nowMs);
    if (rule.type === 'detection') this.maybeContain(rule, incident, nowMs);
  }

  /** Sends the trigger to every receiver not yet triggered, unless silenced (then it is recorded as such). */
  private applySilence(rule: Rule, incident: Incident, nowMs: number): void {
    const silence =
      incident.mode === 'live' ? findSilence(this.silences(), incident.labels, nowMs) : undefined;
    const silencedBy = silence?.id ?? '';
    if (silencedBy !== incident.silencedBy) {
      this.transition(
        incident,
        incident.state,
        silencedBy ? 'silenced' : 'unsilenced',
        silencedBy || incident.silencedBy,
        nowMs,
      );
      const wasSilenced = incident.silencedBy !== '';
      incident.silencedBy = silencedBy;
      this.touch(incident);
      if (silencedBy && !wasSilenced) {
        // Record once what the silence held back.
        for (const receiver of rule.receivers)
          if (!incident.notified.includes(receiver))
            this.notify(incident, receiver, 'trigger', 'silenced', nowMs);
        return;
      }
    }
    if (silencedBy) return;
    const missing = rule.receivers.filter((r) => !incident.notified.includes(r));
    if (missing.length === 0) return;
    for (const receiver of missing) {
      this.notify(incident, receiver, 'trigger', incident.mode === 'shadow' ? 'shadow' : 'pending', nowMs);
      incident.notified.push(receiver);
    }
    incident.lastNotifiedAtMs = nowMs;
    this.touch(incident);
  }

  private notifyAll(rule: Rule, incident: Incident, action: NotificationAction, nowMs: number): void {
    if (incident.silencedBy) return;
    for (const receiver of rule.receivers)
      if (incident.notified.includes(receiver))
        this.notify(incident, receiver, action, incident.mode === 'shadow' ? 'shadow' : 'pending', nowMs);
    incident.lastNotifiedAtMs = nowMs;
    this.touch(incident);
  }

  private resolve(rule: Rule, incident: Incident, nowMs: number, reason: string, actor = ''): void {
    const from = incident.state;
    incident.state = 'resolved';
    incident.resolvedAtMs = nowMs;
    this.open.delete(this.keyOf(incident.rule, incident.groupKey));
    this.touch(incident);
    this.transition(incident, from, 'resolved', reason, nowMs, actor);
    if (from !== 'firing') return;
    // Resolve what was triggered, even when a silence started since: the pager must not stay open.
    for (const receiver of rule.receivers)
      if (incident.notified.includes(receiver))
        this.notify(incident, receiver, 'resolve', incident.mode === 'shadow' ? 'shadow' : 'pending', nowMs);
    if (rule.type === 'detection' && incident.containment?.active)
      this.lift(incident, nowMs, 'incident resolved');
  }

  private maybeContain(rule: DetectionRule, incident: Incident, nowMs: number): void {
    const spec = rule.containment;
    if (!spec || incident.containment?.active || !severityAtLeast(incident.severity, spec.min_severity))
      return;
    incident.containment = {
      action: spec.action,
      mode: spec.mode,
      receiver: spec.receiver,
      active: true,
      appliedAtMs: nowMs,
      expiresAtMs: nowMs + spec.expires_after,
      renewals: 0,
    };
    this.transition(incident, incident.state, 'contained', `${spec.action} (${spec.mode})`, nowMs);
    this.notify(incident, spec.receiver, 'contain', incident.mode === 'shadow' ? 'shadow' : 'pending', nowMs);
  }

  /** At expiry an action is renewed if detections kept coming during it, lifted otherwise. */
  private containmentExpiry(rule: DetectionRule, incident: Incident, nowMs: number): void {
    const state = incident.containment;
    if (!state?.active || !rule.containment || nowMs < state.expiresAtMs) return;
    if (incident.lastMatchAtMs > state.expiresAtMs - rule.containment.expires_after) {
      state.expiresAtMs = nowMs + rule.containment.expires_after;
      state.renewals++;
      this.touch(incident);
      this.transition(
        incident,
        incident.state,
        'contained',
        `renewed until ${new Date(state.expiresAtMs).toISOString()}`,
        nowMs,
      );
      this.notify(
        incident,
        state.receiver,
        'contain',
        incident.mode === 'shadow' ? 'shadow' : 'pending',
        nowMs,
      );
    } else this.lift(incident, nowMs, 'expired');
  }

  private lift(incident: Incident, nowMs: number, reason: string): void {
    const state = incident.containment;
    if (!state) return;
    state.active = false;
    this.touch(incident);
    this.transition(incident, incident.state, 'lifted', reason, nowMs);
    this.notify(incident, state.receiver, 'lift', incident.mode === 'shadow' ? 'shadow' : 'pending', nowMs);
  }

  private notify(
    incident: Incident,
    receiver: string,
    action: NotificationAction,
    status: NotificationRecord['status'],
    nowMs: number,
  ): void {
    const seq = incident.notificationSeq++;
    const rendered = this.render(receiver, action, incident, nowMs);
    this.notifications.push({
      id: hashId(incident.id, receiver, action, seq),
      incidentId: incident.id,
      rule: incident.rule,
      receiver,
      receiverType: rendered.receiverType,
      action,
      status,
      attempts: 0,
      reason:
        status === 'silenced'
          ? `silenced by ${incident.silencedBy}`
          : status === 'shadow'
            ? 'shadow mode'
            : '',
      payload: rendered.payload,
      createdAtMs: nowMs,
      deliveredAtMs: null,
    });
    this.touch(incident);
  }

  private transition(
    incident: Incident,
    from: Transition['from'],
    to: Transition['to'],
    reason: string,
    nowMs: number,
    actor = '',
  ): void {
    this.transitions.push({
      incidentId: incident.id,
      atMs: nowMs,
      rule: incident.rule,
      accountId: incident.labels['account'] ?? '',
      from,
      to,
      reason,
      actor,
    });
  }

  private touch(incident: Incident): void {
    this.changed.set(incident.id, incident);
  }

  private keyOf(rule: string, groupKey: string): string {
    return `${rule}\u0000${groupKey}`;
  }
}
