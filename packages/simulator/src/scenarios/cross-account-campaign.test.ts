import { describe, expect, it } from 'vitest';
import { hourMs, linkHosts, onlyLabel, outboundOf, scenarioRun, testPeriodStartMs } from '../test-helpers.ts';

const atMs = testPeriodStartMs + 3 * hourMs + 5 * 60_000 + 37_000;

function registrable(host: string): string {
  return host.split('.').slice(-2).join('.');
}

describe('cross_account_campaign', () => {
  const run = scenarioRun({ name: 'cross_account_campaign', atMs });
  const label = onlyLabel(run);
  // The domain most labelled accounts link to during the campaign.
  const campaignDomain = (() => {
    const senders = new Map<string, Set<string>>();
    for (const message of outboundOf(run)) {
      if (message.eventTime < label.startMs || message.eventTime > label.endMs) continue;
      for (const host of linkHosts(message.body)) {
        const domain = registrable(host);
        senders.set(domain, (senders.get(domain) ?? new Set()).add(message.accountId));
      }
    }
    return [...senders.entries()].sort((left, right) => right[1].size - left[1].size)[0]?.[0] ?? '';
  })();
  const campaign = outboundOf(run).filter((message) =>
    linkHosts(message.body).some((host) => registrable(host) === campaignDomain),
  );

  it('labels 6-15 accounts with the cross-account kind', () => {
    expect(label.scenario).toBe('cross_account_campaign');
    expect(label.accountIds.length).toBeGreaterThanOrEqual(6);
    expect(label.accountIds.length).toBeLessThanOrEqual(15);
    expect(new Set(label.accountIds).size, 'distinct accounts').toBe(label.accountIds.length);
    expect(label.expectedKinds[0]).toBe('cross_account_campaign');
  });

  it('sends one registrable domain from every labelled account, and only from them', () => {
    expect(campaignDomain, 'a campaign domain').not.toBe('');
    expect(new Set(campaign.map((message) => message.accountId)), 'senders of the domain').toEqual(
      new Set(label.accountIds),
    );
    const starts = label.accountIds.map((accountId) =>
      Math.min(...campaign.filter((message) => message.accountId === accountId).map((m) => m.eventTime)),
    );
    expect(Math.max(...starts) - Math.min(...starts), 'accounts start within 30 min').toBeLessThanOrEqual(
      30 * 60_000,
    );
  });

  it('keeps each account modest while the campaign is large in total', () => {
    for (const accountId of label.accountIds) {
      const own = campaign.filter((message) => message.accountId === accountId);
      const spanSeconds = (own.at(-1)!.eventTime - own[0]!.eventTime) / 1000;
      expect(own.length / spanSeconds, `${accountId} rate per second`).toBeLessThan(3.5);
    }
    expect(campaign.length, 'campaign total').toBeGreaterThan(3000);
  });

  it('varies names, amounts and paths around one text', () => {
    const bodies = campaign.map((message) => message.body ?? '');
    expect(new Set(bodies).size / bodies.length, 'distinct bodies').toBeGreaterThan(0.9);
    const skeletons = new Set(
      bodies.map((body) => body.replace(/https:\/\/\S+|\$?\d+(\.\d+)?|[A-Z][a-z]+,/g, '#')),
    );
    expect(skeletons.size, 'a handful of wordings').toBeLessThanOrEqual(12);
  });
});
