import { destinationOf } from '@floodgate/schema';
import { describe, expect, it } from 'vitest';
import { hourMs, inNetwork, onlyLabel, outboundOf, scenarioRun, testPeriodStartMs } from '../test-helpers.ts';

const atMs = testPeriodStartMs + 10 * hourMs + 9 * 60_000 + 8_000;

describe('third_party_misuse', () => {
  const run = scenarioRun(
    { name: 'third_party_misuse', atMs, options: { variant: 'both', durationMs: hourMs } },
    { hours: 12 },
  );
  const label = onlyLabel(run);
  const entry = run.inventory.find((candidate) => candidate.keyId === label.apiKeyIds[0])!;
  const keyTraffic = outboundOf(run, label.accountIds[0]).filter(
    (message) => message.apiKeyId === entry.keyId,
  );
  const allowed = (ip: string | undefined): boolean =>
    entry.allowedNetworks.some((cidr) => ip !== undefined && inNetwork(ip, cidr));

  it('names a key shared with a third party in the inventory', () => {
    expect(label.scenario).toBe('third_party_misuse');
    expect(label.expectedKinds).toEqual(['credential_anomaly']);
    expect(entry.thirdParty, 'inventory marks the partner').toBeTruthy();
    expect(entry.allowedNetworks.length).toBeGreaterThan(0);
    expect(entry.allowedCountries.length).toBeGreaterThan(0);
  });

  it('keeps to the agreement before the misuse starts', () => {
    const before = keyTraffic.filter((message) => message.eventTime < atMs);
    expect(before.length, 'the partner used the key properly before').toBeGreaterThan(5);
    expect(
      before.every((message) => allowed(message.sourceIp)),
      'from allowed networks',
    ).toBe(true);
    expect(
      before.every((message) => entry.allowedCountries.includes(destinationOf(message.to).country)),
      'to allowed countries',
    ).toBe(true);
  });

  it('then uses the key from other networks to other countries', () => {
    const misuse = keyTraffic.filter(
      (message) => message.eventTime >= atMs && message.eventTime < label.endMs,
    );
    const outside = misuse.filter(
      (message) =>
        !allowed(message.sourceIp) && !entry.allowedCountries.includes(destinationOf(message.to).country),
    );
    expect(outside.length, 'misuse messages outside networks and countries').toBeGreaterThan(10);
  });
});
