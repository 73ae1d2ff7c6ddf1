/**
 * content_burst and new_link_domain: a template cluster new to the account that suddenly reaches
 * many distinct recipients, and a link domain never seen for the account appearing in a burst.
 * Legitimate campaigns also start new templates, so severity rests on corroboration: a new domain,
 * a new network or key, or a takeover chain makes it critical; a known-domain blast stays a warning
 * (or info when it is within the account's historical peak).
 */
import type { Severity } from '../config.ts';
import { HyperLogLog } from '../content/index.ts';
import type { AccountState, ClusterState, DomainState } from '../engine/account-state.ts';
import type { EffectiveThresholds, EngineCore } from '../engine/core.ts';
import { MEDIUM } from '../engine/rate-tracker.ts';
import type { NormalizedOutbound } from '../normalized-event.ts';

const HLL_PRECISION = 8;

export function checkCluster(
  core: EngineCore,
  account: AccountState,
  cluster: ClusterState,
  thresholds: EffectiveThresholds,
  event: NormalizedOutbound,
  newDomainInEvent: boolean,
): void {
  const t = thresholds.content;
  const age = event.timeMs - cluster.firstSeenMs;
  const newToAccount = cluster.firstSeenMs >= account.firstSeenMs + core.config.accountWarmupMs;
  if (!newToAccount || age > t.newClusterMaxAgeMs) {
    cluster.recipients = null;
    return;
  }
  cluster.recipients ??= new HyperLogLog(HLL_PRECISION);
  cluster.recipients.addString(event.recipientKey);
  const distinct = Math.round(cluster.recipients.count());
  if (distinct < t.minDistinctRecipients) return;
  const novelty = core.recentNovelty(account, event.timeMs, event.apiKeyId);
  const chain = core.takeoverChain(account, event.timeMs, event.apiKeyId);
  const accountPeak = account.rate.baseline.peakPerMinute * 5;
  const withinPeak = account.rate.baseline.hoursSeen >= 24 && account.rate.count(MEDIUM) <= accountPeak * 1.3;
  // A new template reaching many people is what every campaign launch looks like. Alone it is
  // information, a warning only the first time a mature account does it; with a new link domain,
  // a key on a new network or a takeover chain it is the phishing blast this signal exists for.
  let severity: Severity = account.contentBursts === 0 && !withinPeak ? 'warning' : 'info';
  if (chain.length > 0 || novelty || newDomainInEvent) severity = 'critical';
  account.contentBursts++;
  core.emit({
    kind: 'content_burst',
    account,
    key: `fingerprint:${cluster.fingerprint}`,
    // The recipients are counted over the cluster's life, up to newClusterMaxAgeMs: so is the window
    // (and the evidence, from its first message), not the last 5 minutes' share of them.
    windowMs: Math.max(core.config.windowsMs.medium, t.newClusterMaxAgeMs),
    timeMs: event.timeMs,
    observed: distinct,
    expected: 0,
    score: (distinct / Math.max(t.minDistinctRecipients, 1)) * 2,
    severity,
    reason: `a template new to the account reached ${distinct} distinct recipients in ${Math.round(age / 1000)} s${
      novelty ? `; ${novelty}` : ''
    }${withinPeak ? '; account volume within its historical peak' : ''}`,
    metrics: { distinctRecipients: distinct, clusterMessages: cluster.messages, clusterAgeMs: age },
    messagesBeforeDetection: cluster.messages,
    anomalyStartMs: cluster.firstSeenMs,
    focus: { fingerprint: cluster.fingerprint, sinceMs: cluster.firstSeenMs },
    trigger: event,
    audits: chain,
  });
}

export function checkNewDomain(
  core: EngineCore,
  account: AccountState,
  domainName: string,
  domain: DomainState,
  thresholds: EffectiveThresholds,
  event: NormalizedOutbound,
): void {
  // New only while young: a domain the account keeps using becomes part of its vocabulary (else
  // every busy 5 minutes of a domain adopted after warm-up would warn again, forever).
  if (domain.established || event.timeMs - domain.firstSeenMs > thresholds.content.newClusterMaxAgeMs) return;
  const count = domain.rate.sum(1);
  if (count < thresholds.content.minNewDomainCount5m) return;
  const novelty = core.recentNovelty(account, event.timeMs, event.apiKeyId);
  const chain = core.takeoverChain(account, event.timeMs, event.apiKeyId);
  const templateIsNew =
    (account.clusters.get(event.fingerprint)?.firstSeenMs ?? 0) >
    event.timeMs - thresholds.content.newClusterMaxAgeMs;
  const severity: Severity = chain.length > 0 || novelty ? 'critical' : 'warning';
  core.emit({
    kind: 'new_link_domain',
    account,
    key: `domain:${domainName}`,
    windowMs: core.config.windowsMs.medium,
    timeMs: event.timeMs,
    observed: count,
    expected: 0,
    score: (count / Math.max(thresholds.content.minNewDomainCount5m, 1)) * 2,
    severity,
    reason: `link domain ${domainName}, never seen for this account, in ${count} messages within 5m${
      templateIsNew ? ' with a new template' : ''
    }${novelty ? `; ${novelty}` : ''}`,
    metrics: { messages5m: count, domainMessages: domain.messages },
    messagesBeforeDetection: domain.messages,
    anomalyStartMs: domain.firstSeenMs,
    focus: { domain: domainName },
    trigger: event,
    audits: chain,
  });
}

export { MEDIUM };
