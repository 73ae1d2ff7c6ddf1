/**
 * credential_anomaly: an API key used from a network it never used, or with a client product it
 * never used (python-requests where it ran its SDK; a new version of its own client is an upgrade),
 * together with a rise in its volume; a key used outside the scope its inventory entry allows (networks,
 * destination countries); and the account-takeover chain — a login without MFA from a new network,
 * MFA disabled or a key created, then a burst within the hour — as one detection linking the audit
 * events to the traffic.
 */
import type { ApiKeyInventoryEntry } from '@floodgate/schema';
import type { AccountState, ApiKeyState, RiskyAudit } from '../engine/account-state.ts';
import { MAX_REMEMBERED } from '../engine/account-state.ts';
import type { EffectiveThresholds, EngineCore } from '../engine/core.ts';
import { type Habit, NETWORKS, rememberIn, USER_AGENTS } from '../engine/habit-counts.ts';
import { MEDIUM } from '../engine/rate-tracker.ts';
import type { NormalizedAudit, NormalizedOutbound } from '../normalized-event.ts';

const MAX_RISKY_AUDITS = 16;
const KEY_WARMUP_MS = 60 * 60_000;
/** A novel network or user agent in use this long (and keyWarmupMessages times) is the key's own. */
const SETTLE_MS = 60 * 60_000;

export interface ScopeIndex {
  /** Why the message is outside the key's inventory scope; empty when in scope or the key is unknown. */
  violation(event: NormalizedOutbound): readonly string[];
  entry(apiKeyId: string): ApiKeyInventoryEntry | undefined;
}

/**
 * The product a user agent names, without its version: "twilio-node/5.1.2 (linux x64) node/v20.1.0"
 * → "twilio-node", "@vonage/server-sdk/3.8.0 node/20" → "@vonage/server-sdk", "okhttp" → "okhttp".
 */
export function userAgentProduct(userAgent: string): string {
  const first = userAgent.trim().split(/\s/, 1)[0] ?? '';
  const versioned = /^(.+?)\/v?\d/.exec(first);
  return (versioned ? versioned[1] : first)?.toLowerCase() ?? '';
}

/**
 * For a network or user agent the key has no habit of: false once it has been the key's last novel
 * one for an hour and `minMessages` messages (it becomes a habit then); otherwise true, counting this
 * message in its run (a different value starts a new run).
 */
function stillNovel(
  apiKey: ApiKeyState,
  habit: Habit,
  value: string,
  timeMs: number,
  minMessages: number,
): boolean {
  const network = habit === NETWORKS;
  const last = network ? apiKey.lastNovelNetwork : apiKey.lastNovelUserAgent;
  const sinceMs = network ? apiKey.novelNetworkSinceMs : apiKey.novelAgentSinceMs;
  const messages = network ? apiKey.novelNetworkMessages : apiKey.novelAgentMessages;
  if (last === value && sinceMs >= 0 && timeMs - sinceMs >= SETTLE_MS && messages >= minMessages) {
    apiKey.rememberHabit(habit, value);
    return false;
  }
  const sameRun = last === value;
  if (network) {
    apiKey.novelNetworkSinceMs = sameRun ? sinceMs : timeMs;
    apiKey.novelNetworkMessages = sameRun ? messages + 1 : 1;
  } else {
    apiKey.novelAgentSinceMs = sameRun ? sinceMs : timeMs;
    apiKey.novelAgentMessages = sameRun ? messages + 1 : 1;
  }
  return true;
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
  // A key is mature once it has both volume and an hour of history: before that it is still
  // showing us its habits (networks, user agents), which it learns from every message.
  const keyAgeMs = event.timeMs - apiKey.firstSeenMs;
  const keyMature = apiKey.messages >= t.keyWarmupMessages && keyAgeMs >= KEY_WARMUP_MS;
  const accountMature = core.isMature(account, event.timeMs);
  let novelNetwork =
    keyMature && event.sourceNetwork !== '' && !apiKey.hasHabit(NETWORKS, event.sourceNetwork);
  let novelAgent = keyMature && event.userAgent !== '' && !apiKey.hasHabit(USER_AGENTS, event.userAgent);
  // A new network or user agent in steady use for an hour (a migration, an SDK upgrade) becomes
  // the key's own: novel for good, it corroborated every later spike of the key as critical and
  // kept the key from learning anything again. The hour of novelty before has had its detections.
  if (novelNetwork)
    novelNetwork = stillNovel(apiKey, NETWORKS, event.sourceNetwork, event.timeMs, t.keyWarmupMessages);
  if (novelAgent)
    novelAgent = stillNovel(apiKey, USER_AGENTS, event.userAgent, event.timeMs, t.keyWarmupMessages);
  // A key the account started using after warm-up, during its first hour, from a network none of
  // the account's other keys uses (a rotation deploys the new key where the old one ran).
  let newKey =
    accountMature &&
    apiKey.firstSeenMs >= account.firstSeenMs + core.config.accountWarmupMs &&
    keyAgeMs <= KEY_WARMUP_MS;
  if (newKey && event.sourceNetwork !== '') {
    for (const [otherId, other] of account.apiKeys) {
      if (otherId !== event.apiKeyId && other.hasHabit(NETWORKS, event.sourceNetwork)) {
        newKey = false;
        break;
      }
    }
  }
  // A new version of the key's own client is an upgrade: evidence only. A client product the key
  // never used (a scripting library where it ran an SDK) is what a stolen key in other hands looks
  // like, when the attacker works from the same cloud as the owner and the network says nothing.
  // Worked out once per novel agent (parsing every remembered agent costs µs), kept on the key.
  let novelClient = false;
  if (novelAgent) {
    if (event.userAgent !== apiKey.lastNovelUserAgent) {
      const product = userAgentProduct(event.userAgent);
      apiKey.novelAgentNewProduct = !apiKey.someHabit(
        USER_AGENTS,
        (known) => userAgentProduct(known) === product,
      );
      apiKey.lastNovelUserAgent = event.userAgent;
    }
    novelClient = apiKey.novelAgentNewProduct;
  }
  if (novelNetwork || newKey || novelClient) {
    apiKey.novel ??= core.factory.fine();
    apiKey.novel.add(event.timeMs);
    if (novelNetwork) {
      apiKey.lastNovelNetwork = event.sourceNetwork;
      apiKey.novelNetworkLastMs = event.timeMs;
    }
    // Corroborating novelty for other signals: a mature key on a network it never used.
    if (novelNetwork) {
      core.noteNovelty(
        account,
        event.timeMs,
        `API key ${event.apiKeyId} used from new network ${event.sourceNetwork}`,
        event.apiKeyId,
      );
    } else if (novelClient) {
      core.noteNovelty(
        account,
        event.timeMs,
        `API key ${event.apiKeyId} used with a client it never used (${event.userAgent})`,
        event.apiKeyId,
      );
    }
  }
  // Only normal-looking usage teaches a mature key its habits: a burst from a new network stays new.
  if (!novelNetwork && !novelAgent) {
    apiKey.rememberHabit(NETWORKS, event.sourceNetwork);
    apiKey.rememberHabit(USER_AGENTS, event.userAgent);
  }
  apiKey.hourMask |= 1 << Math.floor((event.timeMs / 3_600_000) % 24);

  const violation = scope.violation(event);
  if (violation.length > 0) {
    apiKey.outOfScope ??= core.factory.fine();
    apiKey.outOfScope.add(event.timeMs);
    apiKey.lastOutOfScopeReason = violation.join('; ');
    const networkViolation = violation.some((v) => v.startsWith('source'));
    // A message from outside the allowed networks is a credential in the wrong hands; a few
    // messages to a country outside the list are often a traveller, so countries need a share.
    if (networkViolation)
      core.noteNovelty(
        account,
        event.timeMs,
        `API key ${event.apiKeyId} used from outside its allowed networks (${event.sourceNetwork})`,
        event.apiKeyId,
      );
    const count = apiKey.outOfScope.sum(1);
    const keyVolume = Math.max(apiKey.rate.count(MEDIUM), 1);
    const fires = networkViolation
      ? count >= t.minOutOfScopeCount5m
      : count >= 3 * t.minOutOfScopeCount5m && count / keyVolume >= 0.1;
    if (fires) {
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
        severity: networkViolation || entry?.thirdParty ? 'critical' : 'warning',
        reason: `API key ${event.apiKeyId}${entry?.thirdParty ? ` (shared with ${entry.thirdParty})` : ''} sent ${count} messages outside its allowed scope in 5m (${Math.round((count / keyVolume) * 100)}% of its traffic): ${apiKey.lastOutOfScopeReason}`,
        metrics: { outOfScope5m: count, outOfScopeShare: count / keyVolume },
        messagesBeforeDetection: count,
        anomalyStartMs: event.timeMs - core.config.windowsMs.medium,
        focus: { apiKeyId: event.apiKeyId },
        trigger: event,
        labels: { api_key: event.apiKeyId, ...(entry?.thirdParty ? { third_party: entry.thirdParty } : {}) },
      });
    }
  }

  const novelCount = apiKey.novel?.sumAt(1, event.timeMs) ?? 0;
  if (novelCount >= t.minNovelCount5m) {
    const rate = apiKey.rate;
    const observed = rate.count(MEDIUM);
    const expected = rate.expectedAt(MEDIUM, event.timeMs, thresholds.volume, core.prior('apiKey'));
    const rising = newKey
      ? observed >= t.minNovelCount5m * 3
      : observed >= Math.max(t.minVolumeRatio * expected, t.minNovelCount5m);
    const chain = core.takeoverChain(account, event.timeMs, event.apiKeyId);
    if (rising || chain.length > 0) {
      // A message from a network new to the key in this window; otherwise the novelty was its client.
      const onNewNetwork =
        apiKey.novelNetworkLastMs >= 0 &&
        event.timeMs - apiKey.novelNetworkLastMs <= core.config.windowsMs.medium;
      const what = newKey
        ? `new API key ${event.apiKeyId}`
        : `API key ${event.apiKeyId} ${onNewNetwork ? `from new network ${apiKey.lastNovelNetwork}` : `with new client ${apiKey.lastNovelUserAgent}`}`;
      core.emit({
        kind: 'credential_anomaly',
        account,
        key: `api_key:${event.apiKeyId}`,
        windowMs: core.config.windowsMs.medium,
        timeMs: event.timeMs,
        observed,
        expected,
        score: 2 + Math.min(10, observed / Math.max(expected, 1)),
        // A rotation and a migration look like this too: page only on a takeover chain, or a
        // mature key on a new network sending far above its habit.
        severity:
          chain.length > 0 || (!newKey && onNewNetwork && observed >= 5 * Math.max(expected, 1))
            ? 'critical'
            : 'warning',
        reason: `${what}: ${novelCount} novel messages in 5m, key volume ${observed} vs ${expected.toFixed(1)} expected${
          chain.length > 0 ? `; follows ${chain.map((a) => a.action).join(' → ')}` : ''
        }`,
        metrics: { novel5m: novelCount, keyVolume5m: observed, hoursUsedMask: apiKey.hourMask },
        messagesBeforeDetection: novelCount,
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
    if (!risky) rememberIn(account.mutableLoginNetworks(), event.sourceNetwork, MAX_REMEMBERED);
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
  const audits = account.mutableRiskyAudits();
  audits.push(audit);
  if (audits.length > MAX_RISKY_AUDITS) audits.shift();
  core.noteNovelty(
    account,
    event.timeMs,
    `${event.action} ${event.mfaUsed === false ? 'without MFA ' : ''}from ${knownNetwork ? 'known' : 'new'} network ${event.sourceNetwork}`,
  );
}
