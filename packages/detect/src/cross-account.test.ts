import { describe, expect, it } from 'vitest';
import { CrossAccountStage } from './cross-account.ts';
import type { Detection } from './detection.ts';
import { DetectionEngine, type FingerprintObservation } from './engine/engine.ts';
import { outbound, steadyTraffic } from './engine/test-traffic.ts';
import type { NormalizedEvent } from './normalized-event.ts';

const T0 = Date.UTC(2026, 10, 2, 0, 0, 0);
const MIN = 60_000;

function observe(
  fingerprint: string,
  accountId: string,
  minute: number,
  messages: number,
  first = false,
): FingerprintObservation {
  return {
    fingerprint,
    accountId,
    minuteStartMs: T0 + minute * MIN,
    messages,
    firstForAccount: first,
    linkDomains: ['evil.top'],
    sample: 'Pay at https://evil.top/<path>',
  };
}

describe('CrossAccountStage', () => {
  it('fires when several accounts start sending the same new template within the window, once', () => {
    const stage = new CrossAccountStage({
      crossAccount: { minAccounts: 4, minMessagesPerAccount: 5, windowMs: 60 * MIN, warmupMs: 60 * MIN },
    });
    stage.process(observe('aaaa000000000000', 'warm', 0, 1, true));
    const found = [];
    for (let i = 0; i < 6; i++) {
      found.push(...stage.process(observe('ffff000000000000', `acct_${i}`, 90 + i, 1, true)));
      found.push(...stage.process(observe('ffff000000000000', `acct_${i}`, 91 + i, 9)));
    }
    expect(found).toHaveLength(1);
    expect(found[0]?.kind).toBe('cross_account_campaign');
    expect(found[0]?.evidence.accountIds).toEqual(['acct_0', 'acct_1', 'acct_2', 'acct_3']);
  });

  it('judges warm-up by event time, not by which partition delivered first (a backfill arrives out of order)', () => {
    const stage = new CrossAccountStage({
      crossAccount: { minAccounts: 3, minMessagesPerAccount: 5, windowMs: 60 * MIN, warmupMs: 60 * MIN },
    });
    const found = [];
    // One engine partition is already at minute 200 when the others deliver minute 0.
    found.push(...stage.process(observe('cccc000000000000', 'acct_0', 200, 9, true)));
    stage.process(observe('aaaa000000000000', 'warm', 0, 1, true));
    for (let i = 1; i < 4; i++)
      found.push(...stage.process(observe('cccc000000000000', `acct_${i}`, 200 + i, 9, true)));
    expect(found).toHaveLength(1);
    expect(found[0]?.evidence.accountIds).toEqual(['acct_0', 'acct_1', 'acct_2']);
  });

  it('never fires on a template that was already shared during warm-up (common OTP wording)', () => {
    const stage = new CrossAccountStage({
      crossAccount: { minAccounts: 3, minMessagesPerAccount: 1, warmupMs: 60 * MIN },
    });
    const found = [];
    for (let i = 0; i < 10; i++)
      found.push(...stage.process(observe('0707070707070707', `acct_${i}`, i * 20, 50, true)));
    expect(found).toEqual([]);
  });

  it('does not count accounts that sent only a handful of messages', () => {
    const stage = new CrossAccountStage({
      crossAccount: { minAccounts: 3, minMessagesPerAccount: 20, warmupMs: 0 },
    });
    const found = [];
    for (let i = 0; i < 5; i++)
      found.push(...stage.process(observe('1234123412341234', `acct_${i}`, 10, 2, true)));
    expect(found).toEqual([]);
  });

  it('continues identically after snapshot → restore', () => {
    const config = { crossAccount: { minAccounts: 3, minMessagesPerAccount: 1, warmupMs: 0 } };
    const stage = new CrossAccountStage(config);
    stage.process(observe('abababababababab', 'a', 1, 5, true));
    stage.process(observe('abababababababab', 'b', 2, 5, true));
    const restored = CrossAccountStage.restore(JSON.parse(JSON.stringify(stage.snapshot())), config);
    expect(restored.process(observe('abababababababab', 'c', 3, 5, true))).toEqual(
      stage.process(observe('abababababababab', 'c', 3, 5, true)),
    );
  });

  it("fires on a campaign sent as one-minute bursts from many accounts (the engine's sweeps flush their counts)", () => {
    const engine = new DetectionEngine();
    const stage = new CrossAccountStage();
    const found: Detection[] = [];
    const feed = (events: NormalizedEvent[]) => {
      for (const event of events) engine.process(event);
      for (const observation of engine.drainObservations()) found.push(...stage.process(observation));
    };
    const hour = 60 * MIN;
    feed(steadyTraffic(T0, T0 + 2 * hour, 5, 1, 'acct_benign')); // past the stage's warm-up
    for (let a = 0; a < 8; a++) {
      const start = T0 + 2 * hour + a * 3 * MIN + 5_000;
      // 20 messages within 40 seconds, then nothing more from this account.
      feed(
        Array.from({ length: 20 }, (_, i) =>
          outbound({
            timeMs: start + i * 2_000,
            accountId: `acct_${a}`,
            apiKeyId: `k${a}`,
            fingerprint: 'f00dfeedc0ffee11',
            maskedBody: 'USPS: parcel held <url>',
            recipientKey: `r${a}_${i}`,
            linkDomains: ['usps-parcel-help.top'],
          }),
        ),
      );
    }
    feed(steadyTraffic(T0 + 2 * hour + 30 * MIN, T0 + 3 * hour, 5, 2, 'acct_benign'));
    // Each account's 19 messages after its first stayed pending for good: no detection.
    expect(found.filter((d) => d.kind === 'cross_account_campaign').length).toBeGreaterThan(0);
  });

  it('restored from a snapshot taken before any observation, still warms up', () => {
    const config = { crossAccount: { minAccounts: 3, minMessagesPerAccount: 5, warmupMs: 60 * MIN } };
    const feed = (stage: CrossAccountStage) =>
      [0, 1, 2, 3].flatMap((i) => [
        ...stage.process(observe('1111222233334444', `acct_${i}`, i, 1, true)),
        ...stage.process(observe('1111222233334444', `acct_${i}`, i + 1, 9)),
      ]);
    const fresh = new CrossAccountStage(config);
    const restored = CrossAccountStage.restore(JSON.parse(JSON.stringify(fresh.snapshot())), config);
    // Shared within the first hour: warm-up, not a campaign, whether or not the stage was restored.
    expect(feed(fresh)).toEqual([]);
    expect(feed(restored)).toEqual([]);
  });

  it('at its cap of 200,000 clusters frees a tenth, the oldest first, and keeps the newest', () => {
    const stage = new CrossAccountStage({ crossAccount: { warmupMs: 0 } });
    const total = 200_001;
    for (let i = 0; i < total; i++) stage.process(observe(i.toString(16).padStart(16, '0'), 'a', 1, 1, true));
    const kept = stage.snapshot().clusters.map(([fingerprint]) => Number.parseInt(fingerprint, 16));
    // The 200,001st found the stage full: the 20,000 oldest went (none idle for a day), then it came in.
    expect(kept).toHaveLength(180_001);
    expect(kept[0]).toBe(20_000);
    expect(kept.at(-1)).toBe(200_000);
  });
});
