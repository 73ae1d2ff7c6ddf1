/**
 * Small deterministic traffic builders for the engine's unit tests: steady benign sending with a
 * seeded PRNG, and the patterns each signal must catch. Not the simulator: just enough to pin
 * behaviour at the edges.
 */
import type { NormalizedAudit, NormalizedEvent, NormalizedOutbound } from '../normalized-event.ts';

export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let counter = 0;

export function outbound(overrides: Partial<NormalizedOutbound> & { timeMs: number }): NormalizedOutbound {
  counter++;
  return {
    kind: 'outbound',
    eventId: `o${counter}`,
    accountId: 'acct_a',
    apiKeyId: 'key_a1',
    sourceIp: '203.0.113.10',
    sourceNetwork: '203.0.113.0/24',
    userAgent: 'acme-sdk/1.0',
    recipientKey: `r${counter % 5000}`,
    recipientNumeric: 14155550000 + ((counter * 7919) % 1_000_000) * 97,
    country: 'US',
    prefix: '+141555',
    numberType: 'mobile',
    fingerprint: 'a1b2c3d4e5f60718',
    template: 'your acme code is <num>',
    maskedBody: 'Your Acme code is <num>',
    linkDomains: [],
    segments: 1,
    campaignId: '',
    ...overrides,
  };
}

export function audit(
  overrides: Partial<NormalizedAudit> & { timeMs: number; action: NormalizedAudit['action'] },
): NormalizedAudit {
  counter++;
  return {
    kind: 'audit',
    eventId: `a${counter}`,
    accountId: 'acct_a',
    actor: 'ops@acme.example',
    mfaUsed: true,
    sourceIp: '203.0.113.20',
    sourceNetwork: '203.0.113.0/24',
    userAgent: 'Mozilla/5.0',
    targetApiKeyId: '',
    ...overrides,
  };
}

/** Benign OTP-like traffic: `perMinute` on average, Poisson-ish, over [startMs, endMs). */
export function steadyTraffic(
  startMs: number,
  endMs: number,
  perMinute: number,
  seed = 1,
  accountId = 'acct_a',
): NormalizedEvent[] {
  const random = prng(seed);
  const events: NormalizedEvent[] = [];
  let t = startMs;
  while (t < endMs) {
    t += Math.max(1, Math.round((-Math.log(1 - random()) * 60_000) / perMinute));
    if (t >= endMs) break;
    events.push(
      outbound({
        timeMs: t,
        accountId,
        recipientKey: `r${Math.floor(random() * 100_000)}`,
        recipientNumeric: 14150000000 + Math.floor(random() * 9_999_999),
      }),
    );
  }
  return events;
}

/**
 * SMS pumping: `count` messages `spacingMs` apart from `startMs` to sequential numbers (3 apart) of a
 * Tajik prefix the account never used, each to a new recipient.
 */
export function pumpingBurst(startMs: number, count = 200, spacingMs = 20): NormalizedOutbound[] {
  return Array.from({ length: count }, (_, i) =>
    outbound({
      timeMs: startMs + i * spacingMs,
      country: 'TJ',
      prefix: '+992935',
      recipientNumeric: 992_935_000_100 + i * 3,
      recipientKey: `p${i}`,
    }),
  );
}

export function merge(...streams: NormalizedEvent[][]): NormalizedEvent[] {
  return streams.flat().sort((a, b) => a.timeMs - b.timeMs);
}
