import { describe, expect, it } from 'vitest';
import { prepareSimulation } from '../simulate.ts';
import {
  hourMs,
  inNetwork,
  linkHosts,
  onlyLabel,
  outboundOf,
  scenarioRun,
  testPeriodStartMs,
} from '../test-helpers.ts';
import { ScenarioSetupError } from './scenario.ts';

const atMs = testPeriodStartMs + 27 * hourMs + 17 * 60_000;

describe('legit_blast', () => {
  const run = scenarioRun({ name: 'legit_blast', atMs }, { hours: 30 });
  const label = onlyLabel(run);
  const accountId = label.accountIds[0]!;
  const account = run.accounts.find((candidate) => candidate.accountId === accountId)!;
  const blasts = run.blasts.filter((blast) => blast.accountId === accountId);
  const messages = outboundOf(run, accountId);

  it('is labelled as nothing to page on', () => {
    expect(label.scenario).toBe('legit_blast');
    expect(label.mustDetect).toBe(false);
    expect(label.expectedKinds).toEqual([]);
    expect(label.startMs).toBe(atMs);
  });

  it('has an earlier blast of the same account in the period', () => {
    expect(
      blasts.map((blast) => blast.startMs),
      'the labelled blast is a scheduled one',
    ).toContain(label.startMs);
    expect(
      blasts.some((blast) => blast.startMs < label.startMs),
      'an earlier blast exists',
    ).toBe(true);
  });

  it('sends each blast at many times the normal rate with the usual key, servers and brand links', () => {
    const key = run.inventory.find((entry) => entry.keyId === label.apiKeyIds[0])!;
    const ownDomains = new Set([account.linkDomain, account.shortLinkDomain]);
    for (const blast of blasts) {
      const inBlast = messages.filter((message) => message.campaignId === blast.campaignId);
      const perMinute = inBlast.length / ((blast.endMs - blast.startMs) / 60_000);
      expect(
        perMinute,
        `blast ${blast.campaignId} rate vs base ${account.baseRatePerMinute}`,
      ).toBeGreaterThan(5 * account.baseRatePerMinute);
      expect(new Set(inBlast.map((message) => message.to)).size, 'distinct recipients').toBe(inBlast.length);
      expect(new Set(inBlast.map((message) => message.apiKeyId)), 'the usual key').toEqual(
        new Set([key.keyId]),
      );
      expect(
        inBlast.every((message) =>
          key.allowedNetworks.some((cidr) => inNetwork(message.sourceIp ?? '', cidr)),
        ),
        'from the usual servers',
      ).toBe(true);
      expect(
        inBlast.flatMap((message) => linkHosts(message.body)).every((host) => ownDomains.has(host)),
        'brand links only',
      ).toBe(true);
    }
  });

  it('refuses a blast without a day of history before it', () => {
    expect(() =>
      prepareSimulation({
        seed: 1,
        startMs: testPeriodStartMs,
        durationMs: 30 * hourMs,
        accounts: 20,
        scenarios: [{ name: 'legit_blast', atMs: testPeriodStartMs + 5 * hourMs }],
      }),
    ).toThrow(ScenarioSetupError);
  });
});
