import { describe, expect, it } from 'vitest';
import { samplePricePerSegmentUsd } from '../sample-tables.ts';
import { buildEvidence, EVIDENCE_RING, EvidenceBuffer, type NoveltyLookup } from './evidence-buffer.ts';
import { outbound } from './test-traffic.ts';

const T0 = Date.UTC(2026, 10, 2);
const nothingNew: NoveltyLookup = {
  isNewKey: () => false,
  isNewNetwork: () => false,
  isNewDomain: () => false,
  isNewCountry: () => false,
  isNewTemplate: () => false,
};

/** Messages of two templates, three keys, two countries and a link domain on some. */
function traffic(count: number) {
  return Array.from({ length: count }, (_, i) =>
    outbound({
      timeMs: T0 + i * 1_000,
      apiKeyId: `key_${i % 3}`,
      sourceIp: i % 3 === 2 ? '198.51.100.7' : '203.0.113.10',
      country: i % 4 === 0 ? 'GB' : 'US',
      prefix: i % 4 === 0 ? '+447700' : '+141555',
      recipientKey: `recipient-${i % 40}`,
      fingerprint: i % 5 === 0 ? '00000000000000ff' : 'a1b2c3d4e5f60718',
      maskedBody: i % 5 === 0 ? `Pay the fee at usps-fee.top/<path> (${i % 2})` : 'Your Acme code is <num>',
      linkDomains: i % 5 === 0 ? ['usps-fee.top'] : [],
      segments: 1 + (i % 2),
    }),
  );
}

const evidenceOf = (buffer: EvidenceBuffer, sinceMs?: number) =>
  buildEvidence(buffer, undefined, { sinceMs }, nothingNew, samplePricePerSegmentUsd, 0);

describe('EvidenceBuffer', () => {
  it('builds evidence from what it keeps of each message: counts, newest sample, distinct recipients, cost', () => {
    const buffer = new EvidenceBuffer();
    for (const event of traffic(100)) buffer.push(event);
    const evidence = evidenceOf(buffer);
    expect(evidence.topTemplates).toEqual([
      { fingerprint: 'a1b2c3d4e5f60718', sample: 'Your Acme code is <num>', count: 80 },
      // The newest message of the template is i = 95: its body ends in (1).
      { fingerprint: '00000000000000ff', sample: 'Pay the fee at usps-fee.top/<path> (1)', count: 20 },
    ]);
    expect(evidence.distinctRecipients).toBe(40);
    expect(evidence.apiKeys.map((k) => [k.value, k.count])).toEqual([
      ['key_0', 34],
      ['key_1', 33],
      ['key_2', 33],
    ]);
    expect(evidence.topCountries.map((c) => [c.value, c.count])).toEqual([
      ['US', 75],
      ['GB', 25],
    ]);
    expect(evidence.topPrefixes[0]).toEqual({ value: '+141555', count: 75 });
    expect(evidence.sourceIps.map((c) => [c.value, c.count])).toEqual([
      ['203.0.113.10', 67],
      ['198.51.100.7', 33],
    ]);
    expect(evidence.linkDomains).toEqual([{ value: 'usps-fee.top', count: 20 }]);
    expect(evidence.estimatedCostUsd).toBeGreaterThan(0);
    // Only messages since the focus's start count.
    expect(evidenceOf(buffer, T0 + 90_000).topTemplates.reduce((n, t) => n + t.count, 0)).toBe(10);
  });

  it('keeps the last EVIDENCE_RING messages', () => {
    const buffer = new EvidenceBuffer();
    const events = traffic(EVIDENCE_RING + 88);
    for (const event of events) buffer.push(event);
    expect(buffer.size).toBe(EVIDENCE_RING);
    expect(buffer.lastUsedMs).toBe(events.at(-1)?.timeMs);
    expect(buffer.newest(0).timeMs).toBe(events.at(-1)?.timeMs);
    const counted = evidenceOf(buffer).topTemplates.reduce((n, t) => n + t.count, 0);
    expect(counted).toBe(EVIDENCE_RING);
    expect(evidenceOf(buffer, events[88]?.timeMs).topTemplates.reduce((n, t) => n + t.count, 0)).toBe(
      EVIDENCE_RING,
    );
    expect(evidenceOf(buffer, events[89]?.timeMs).topTemplates.reduce((n, t) => n + t.count, 0)).toBe(
      EVIDENCE_RING - 1,
    );
  });

  it('round-trips through its snapshot, masked bodies stored once', () => {
    const buffer = new EvidenceBuffer();
    for (const event of traffic(EVIDENCE_RING + 10)) buffer.push(event);
    const json = JSON.parse(JSON.stringify(buffer.toJSON('acct_a')));
    expect(json.samples).toHaveLength(3);
    const restored = EvidenceBuffer.fromJSON(json);
    expect(restored.toJSON('acct_a')).toEqual(json);
    expect(evidenceOf(restored)).toEqual(evidenceOf(buffer));
    expect(restored.next).toBe(buffer.next);
    expect(restored.lastUsedMs).toBe(buffer.lastUsedMs);
  });

  it('writes a field the message before repeats once, and times as differences', () => {
    const buffer = new EvidenceBuffer();
    for (let i = 0; i < 300; i++)
      buffer.push(outbound({ timeMs: T0 + i * 250, linkDomains: ['acme.example'] }));
    const json = JSON.stringify(buffer.toJSON('acct_a'));
    for (const value of [
      'key_a1',
      '203.0.113.10',
      'acme-sdk/1.0',
      '+141555',
      'a1b2c3d4e5f60718',
      'acme.example',
    ])
      expect(json.split(value).length - 1, value).toBe(1);
    expect(buffer.toJSON('acct_a').entries?.[1]?.[0]).toBe(250);
    expect(evidenceOf(EvidenceBuffer.fromJSON(JSON.parse(json)))).toEqual(evidenceOf(buffer));
  });

  it('reads a ring of whole events from a snapshot of version 3 or older', () => {
    const events = traffic(30);
    const buffer = new EvidenceBuffer();
    for (const event of events) buffer.push(event);
    const slots = new Array(EVIDENCE_RING).fill(null);
    events.forEach((event, i) => {
      slots[i] = event;
    });
    const old = EvidenceBuffer.fromJSON({ accountId: 'acct_a', next: 30, size: 30, events: slots });
    expect(evidenceOf(old)).toEqual(evidenceOf(buffer));
    expect(old.toJSON('acct_a')).toEqual(buffer.toJSON('acct_a'));
  });

  it('builds evidence from the triggering message alone when the account has no ring', () => {
    const [trigger] = traffic(1);
    const evidence = buildEvidence(undefined, trigger, {}, nothingNew, samplePricePerSegmentUsd, 40);
    expect(evidence.topTemplates).toEqual([
      { fingerprint: '00000000000000ff', sample: 'Pay the fee at usps-fee.top/<path> (0)', count: 1 },
    ]);
    expect(evidence.distinctRecipients).toBe(1);
    expect(evidence.topCountries).toEqual([{ value: 'GB', count: 1 }]);
    expect(evidence.linkDomains).toEqual([{ value: 'usps-fee.top', count: 1 }]);
    // Its cost scaled to the 40 messages observed.
    expect(evidence.estimatedCostUsd).toBeCloseTo(40 * (samplePricePerSegmentUsd['GB'] ?? 0), 2);
  });

  it('is empty again after reset', () => {
    const buffer = new EvidenceBuffer();
    for (const event of traffic(20)) buffer.push(event);
    buffer.reset();
    expect(buffer.toJSON('acct_a')).toEqual(new EvidenceBuffer().toJSON('acct_a'));
    expect(evidenceOf(buffer).topTemplates).toEqual([]);
  });
});
