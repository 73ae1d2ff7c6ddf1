import { describe, expect, it } from 'vitest';
import { hourMs, onlyLabel, outboundOf, scenarioRun, testPeriodStartMs } from '../test-helpers.ts';

const atMs = testPeriodStartMs + 14 * hourMs + 3 * 60_000 + 29_000;
const optOutPattern =
  /^(stop|unsubscribe|stopall|cancel|end|quit|optout|baja|sair|parar|arr[eê]t|abmelden|stopp)\b|stop/i;

describe('opt_out_storm', () => {
  const run = scenarioRun(
    { name: 'opt_out_storm', atMs, options: { recipients: 3000, optOutShare: 0.1 } },
    { hours: 16 },
  );
  const label = onlyLabel(run);
  const accountId = label.accountIds[0]!;
  const messages = outboundOf(run, accountId);
  const campaign = messages.filter(
    (message) => message.campaignId !== undefined && message.eventTime >= atMs,
  );
  const campaignRecipients = new Set(campaign.map((message) => message.to));
  const replies = run.events.filter(
    (event) => event.type === 'message.inbound' && event.accountId === accountId && event.eventTime >= atMs,
  );

  it('labels a bad campaign with opt_out_spike', () => {
    expect(label.scenario).toBe('opt_out_storm');
    expect(label.mustDetect).toBe(true);
    expect(label.expectedKinds).toContain('opt_out_spike');
    expect(campaign.length, 'campaign size').toBeGreaterThan(2500);
    expect(campaign.length, 'campaign size').toBeLessThan(3500);
  });

  it('sends a template the account never used, with its usual key and links', () => {
    const skeleton = (body: string | undefined): string => (body ?? '').replace(/\d+|https:\/\/\S+/g, '#');
    const earlier = new Set(
      messages.filter((message) => message.eventTime < atMs).map((m) => skeleton(m.body)),
    );
    expect(
      campaign.some((message) => earlier.has(skeleton(message.body))),
      'template is new',
    ).toBe(false);
    expect(new Set(campaign.map((message) => message.apiKeyId)), 'usual key').toEqual(
      new Set(label.apiKeyIds),
    );
    const account = run.accounts.find((candidate) => candidate.accountId === accountId)!;
    const ownDomains = new Set([account.linkDomain, account.shortLinkDomain]);
    expect(
      campaign.every((message) =>
        [...(message.body ?? '').matchAll(/https:\/\/([^/\s]+)/g)].every((m) => ownDomains.has(m[1])),
      ),
      'links to the sender’s own domains',
    ).toBe(true);
  });

  it('draws STOP replies from 5-15 % of recipients within minutes', () => {
    const optOuts = replies.filter(
      (event) =>
        event.type === 'message.inbound' &&
        optOutPattern.test(event.body) &&
        campaignRecipients.has(event.from),
    );
    const share = optOuts.length / campaignRecipients.size;
    expect(share, `opt-out share ${share}`).toBeGreaterThan(0.05);
    expect(share, `opt-out share ${share}`).toBeLessThan(0.15);
    const sentAt = new Map(campaign.map((message) => [message.to, message.eventTime]));
    const delays = optOuts
      .map((event) => event.eventTime - (sentAt.get(event.type === 'message.inbound' ? event.from : '') ?? 0))
      .sort((a, b) => a - b);
    expect(delays[Math.floor(delays.length / 2)]!, 'median reply delay').toBeLessThan(10 * 60_000);
    const spellings = new Set(optOuts.map((event) => (event.type === 'message.inbound' ? event.body : '')));
    expect(spellings.size, 'opt-outs come in many spellings').toBeGreaterThan(4);
  });
});
