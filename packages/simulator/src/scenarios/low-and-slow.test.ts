import { describe, expect, it } from 'vitest';
import {
  hourMs,
  inNetwork,
  linkHosts,
  onlyLabel,
  outboundOf,
  scenarioRun,
  testPeriodStartMs,
} from '../test-helpers.ts';

const atMs = testPeriodStartMs + 9 * hourMs + 13 * 60_000 + 51_000;
const rampMs = 3 * hourMs;

describe('low_and_slow', () => {
  const run = scenarioRun(
    { name: 'low_and_slow', atMs, options: { rampMs, holdMs: 30 * 60_000 } },
    { hours: 14 },
  );
  const label = onlyLabel(run);
  const accountId = label.accountIds[0]!;
  const account = run.accounts.find((candidate) => candidate.accountId === accountId)!;
  const key = run.inventory.find((entry) => entry.keyId === label.apiKeyIds[0])!;
  const messages = outboundOf(run, accountId);
  const attack = messages.filter(
    (message) =>
      message.apiKeyId === key.keyId &&
      !key.allowedNetworks.some(
        (cidr) => message.sourceIp !== undefined && inNetwork(message.sourceIp, cidr),
      ),
  );

  it('abuses an existing key of the account from an unusual network', () => {
    expect(label.scenario).toBe('low_and_slow');
    expect(key.accountId, 'a key the sender owns').toBe(accountId);
    expect(attack.length, 'attack traffic exists').toBeGreaterThan(50);
    expect(attack.every((message) => message.eventTime >= atMs && message.eventTime <= label.endMs)).toBe(
      true,
    );
  });

  it('starts near the normal rate and ends several times above it', () => {
    const count = (fromMs: number, toMs: number): number =>
      attack.filter((message) => message.eventTime >= fromMs && message.eventTime < toMs).length;
    const firstMinutes = count(atMs, atMs + 20 * 60_000);
    const lastMinutes = count(atMs + rampMs - 20 * 60_000, atMs + rampMs);
    const normalPerTwentyMinutes = account.baseRatePerMinute * 20;
    expect(firstMinutes, 'extra traffic of the first 20 min under the normal volume').toBeLessThan(
      0.8 * normalPerTwentyMinutes,
    );
    expect(lastMinutes, 'the last 20 min of the ramp bring several times normal').toBeGreaterThan(
      3 * normalPerTwentyMinutes,
    );
    expect(lastMinutes, 'and several times the start').toBeGreaterThan(firstMinutes * 5);
  });

  it('links to a domain the account never used', () => {
    const earlier = new Set(
      messages.filter((message) => message.eventTime < atMs).flatMap((m) => linkHosts(m.body)),
    );
    const attackDomains = new Set(attack.flatMap((message) => linkHosts(message.body)));
    expect(attackDomains.size).toBe(1);
    expect([...attackDomains].filter((domain) => earlier.has(domain))).toEqual([]);
  });
});
