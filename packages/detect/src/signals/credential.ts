/**
 * credential_anomaly: an API key used from a network or user agent it never used, together with a
 * rise in its volume; a key used outside the scope its inventory entry allows (networks,
 * destination countries); and the account-takeover chain — a login without MFA from a new network,
 * MFA disabled or a key created, then a burst within the hour — as one detection linking the audit
 * events to the traffic.
 */
import type { ApiKeyInventoryEntry } from '@floodgate/schema';
import type { AccountState, ApiKeyState, RiskyAudit } from '../engine/account-state.ts';
import type { EffectiveThresholds, EngineCore } from '../engine/core.ts';
import { MEDIUM } from '../engine/rate-tracker.ts';
import type { NormalizedAudit, NormalizedOutbound } from '../normalized-event.ts';

const MAX_REMEMBERED = 16;
const MAX_RISKY_AUDITS = 16;

export interface ScopeIndex {
  /** Reason the message is outside the key's inventory scope, or '' when in scope / unknown key. */
  violation(event: NormalizedOutbound): string;
  entry(apiKeyId: string): ApiKeyInventoryEntry | undefined;
}

function remember(map: Map<string, number>, value: string): void {
  if (!value) return;
  const seen = map.get(value);
  if (seen !== undefined) {
    map.set(value, seen + 1);
    return;
  }
  if (map.size >= MAX_REMEMBERED) {
    // Forget the least used, so one-off values do not crowd out the key's real habits.
    let rarest = '';
    let rarestCount = Infinity;
    for (const [k, c] of map) {
      if (c < rarestCount) {
        rarest = k;
        rarestCount = c;
      }
    }
    map.delete(rarest);
  }
  map.set(value, 1);
}

export function checkCredential(
  core: EngineCore,
  account: AccountState,
  apiKey: ApiKeyState,
  thresholds: EffectiveThresholds,
  scope: ScopeIndex,
  event: NormalizedOutbound,
): void {
  const t = thresholds.credential;
  const keyMature = apiKey.messages >= t.keyWarmupMessages && core.isMature(account, apiKey.firstSeenMs + 1);
  const accountMature = core.isMature(account, event.timeMs);
  const newNetwork = event.sourceNetwork !== '' && !apiKey.networks.has(event.sourceNetwork);
  const newAgent = event.userAgent !== '' && !apiKey.userAgents.has(event.userAgent);
  const newKey = accountMature && apiKey.firstSeenMs >= account.firstSeenMs + core.config.accountWarmupMs;
  const novel = (keyMature && (newNetwork || newAgent)) || newKey;
  if (novel) {
    apiKey.novel.add(event.timeMs);
    if (newNetwork) apiKey.lastNovelNetwork = event.sourceNetwork;
    if (newAgent) apiKey.lastNovelUserAgent = event.userAgent;
    core.noteNovelty(
      account,
      event.timeMs,
      newKey
        ? `API key ${event.apiKeyId} first used recently`
        : `API key ${event.apiKeyId} used from ${newNetwork ? `new network ${event.sourceNetwork}` : `new user agent ${event.userAgent}`}`,
    );
  } else {
    // Only normal-looking usage teaches the key its habits; a burst from a new network must stay new.
    remember(apiKey.networks, event.sourceNetwork);
    remember(apiKey.userAgents, event.userAgent);
  }
  if (!novel && !keyMature) {
    remember(apiKey.networks, event.sourceNetwork);
    remember(apiKey.userAgents, event.userAgent);
  }
  apiKey.hourMask |= 1 << Math.floor((event.timeMs / 3_600_000) % 24);

  const violation = scope.violation(event);
  if (violation) {
    apiKey.outOfScope.add(event.timeMs);
    apiKey.lastOutOfScopeReason = violation;
    core.noteNovelty(account, event.timeMs, `API key ${event.apiKeyId} used outside its scope: ${violation}`);
    const count = apiKey.outOfScope.sum(1);
    if (count >= t.minOutOfScopeCount5m) {
      const entry = scope.entry(event.apiKeyId);
      core.emit({
        kind: 'credential_anomaly',
        account,
        key: `api_key:${event.apiKeyId}:scope`,
        windowMs: core.config.windowsMs.medium,
        timeMs: event.timeMs,
        observed: count,
        expected: 0,
        score: 2 + count / Math.max(t.minOutOfScopeCount5m, 1),
        severity: 'critical',
        reason: `API key ${event.apiKeyId}${entry?.thirdParty ? ` (shared with ${entry.thirdParty})` : ''} sent ${count} messages outside its allowed scope in 5m: ${violation}`,
        metrics: { outOfScope5m: count },
        messagesBeforeDetection: count,
        anomalyStartMs: event.timeMs - core.config.windowsMs.medium,
        focus: { apiKeyId: event.apiKeyId },
        trigger: event,
        labels: { api_key: event.apiKeyId, ...(entry?.thirdParty ? { third_party: entry.thirdParty } : {}) },
      });
    }
  }

  const novelCount = apiKey.novel.sum(1);
  if (novelCount >= t.minNovelCount5m) {
    const rate = apiKey.rate;
    const observed = rate.count(MEDIUM);
    const expected = rate.expected[MEDIUM] as number;
    const rising = newKey
      ? observed >= t.minNovelCount5m * 3
      : observed >= Math.max(t.minVolumeRatio * expected, t.minNovelCount5m);
    const chain = core.takeoverChain(account, event.timeMs, event.apiKeyId);
    if (rising || chain.length > 0) {
      const what = newKey
        ? `new API key ${event.apiKeyId}`
        : `API key ${event.apiKeyId} from ${apiKey.lastNovelNetwork ? `new network ${apiKey.lastNovelNetwork}` : `new user agent ${apiKey.lastNovelUserAgent}`}`;
      core.emit({
        kind: 'credential_anomaly',
        account,
        key: `api_key:${event.apiKeyId}`,
        windowMs: core.config.windowsMs.medium,
        timeMs: event.timeMs,
        observed,
        expected,
        score: 2 + Math.min(10, observed / Math.max(expected, 1)),
        severity:
          chain.length > 0 || (rising && !newKey) || observed >= 10 * t.minNovelCount5m
            ? 'critical'
            : 'warning',
        reason: `${what}: ${novelCount} novel messages in 5m, key volume ${observed} vs ${expected.toFixed(1)} expected${
          chain.length > 0 ? `; follows ${chain.map((a) => a.action).join(' → ')}` : ''
        }`,
        metrics: { novel5m: novelCount, keyVolume5m: observed, hoursUsedMask: apiKey.hourMask },
        messagesBeforeDetection: apiKey.novel.sum(1),
        anomalyStartMs: chain[0]?.timeMs ?? event.timeMs - core.config.windowsMs.medium,
        focus: { apiKeyId: event.apiKeyId },
        trigger: event,
        audits: chain,
        labels: { api_key: event.apiKeyId },
      });
    }
  }
}

/** Records audit events; risky ones (no-MFA login from a new network, MFA off, new key) arm the chain. */
export function observeAudit(core: EngineCore, account: AccountState, event: NormalizedAudit): void {
  const knownNetwork = account.loginNetworks.has(event.sourceNetwork);
  const hadLogins = account.loginNetworks.size > 0;
  let risky = false;
  if (event.action === 'login') {
    risky = event.mfaUsed === false && hadLogins && !knownNetwork;
    if (!risky) remember(account.loginNetworks, event.sourceNetwork);
  } else if (
    event.action === 'mfa_disabled' ||
    event.action === 'api_key_created' ||
    event.action === 'api_key_scope_changed' ||
    event.action === 'webhook_changed'
  ) {
    // These matter when they follow a risky login, or come from an unknown network.
    const afterRiskyLogin = account.riskyAudits.some(
      (a) => a.action === 'login' && event.timeMs - a.timeMs <= core.config.credential.takeoverChainWindowMs,
    );
    risky = afterRiskyLogin || (hadLogins && !knownNetwork);
  }
  if (!risky) return;
  const audit: RiskyAudit = {
    eventId: event.eventId,
    timeMs: event.timeMs,
    action: event.action,
    actor: event.actor,
    mfaUsed: event.mfaUsed,
    sourceNetwork: event.sourceNetwork,
    newNetwork: !knownNetwork,
    targetApiKeyId: event.targetApiKeyId,
  };
  account.riskyAudits.push(audit);
  if (account.riskyAudits.length > MAX_RISKY_AUDITS) account.riskyAudits.shift();
  core.noteNovelty(
    account,
    event.timeMs,
    `${event.action} ${event.mfaUsed === false ? 'without MFA ' : ''}from ${knownNetwork ? 'known' : 'new'} network ${event.sourceNetwork}`,
  );
}
