import { destinationOf } from '@floodgate/schema';
import { describe, expect, it } from 'vitest';
import { countryInfo } from '../countries.ts';
import { Prng } from '../prng.ts';
import { hourMs, onlyLabel, outboundOf, scenarioRun, testPeriodStartMs } from '../test-helpers.ts';
import { NumberBlockWalker } from './sms-pumping.ts';

const atMs = testPeriodStartMs + 3 * hourMs + 11 * 60_000 + 47_000;
const countryByPrefix = new Map<string, string>();

/** Destination country, cached by the leading digits that decide it (calling code and area code). */
function countryOf(number: string): string {
  const prefix = number.slice(0, 7);
  let country = countryByPrefix.get(prefix);
  if (country === undefined) {
    country = destinationOf(number).country;
    countryByPrefix.set(prefix, country);
  }
  return country;
}
const durationMs = 10 * 60_000;

describe('sms_pumping', () => {
  const run = scenarioRun({ name: 'sms_pumping', atMs, options: { durationMs } });
  const label = onlyLabel(run);
  const accountId = label.accountIds[0]!;
  const account = run.accounts.find((candidate) => candidate.accountId === accountId)!;
  const messages = outboundOf(run, accountId);
  const before = messages.filter((message) => message.eventTime < atMs);
  const beforeCountries = new Set(before.map((message) => countryOf(message.to)));
  const during = messages.filter((message) => message.eventTime >= atMs && message.eventTime < label.endMs);
  const pumped = during.filter((message) => !beforeCountries.has(countryOf(message.to)));

  it('labels the attack with destination anomaly as the expected kind', () => {
    expect(label.scenario).toBe('sms_pumping');
    expect(label.mustDetect).toBe(true);
    expect(label.expectedKinds).toContain('destination_anomaly');
    expect(label.endMs - label.startMs).toBe(durationMs);
  });

  it('pumps about 50 messages a second into one country the account never sent to', () => {
    const countries = new Set(pumped.map((message) => countryOf(message.to)));
    expect(countries.size, `pumped countries ${[...countries].join(', ')}`).toBe(1);
    const [country] = countries;
    expect(account.homeCountries, 'not a home market').not.toContain(country);
    expect(before.length, 'the account had traffic before').toBeGreaterThan(10);
    const rate = pumped.length / (durationMs / 1000);
    expect(rate, 'pumping rate per second').toBeGreaterThan(35);
    expect(rate, 'pumping rate per second').toBeLessThan(65);
    const types = new Set(pumped.slice(0, 500).map((message) => destinationOf(message.to).numberType));
    expect([...types], 'valid mobile numbers').toEqual(['mobile']);
  });

  it('walks blocks of consecutive or nearby numbers', () => {
    const numeric = pumped.map((message) => Number(message.to.slice(1))).sort((a, b) => a - b);
    let near = 0;
    for (let index = 1; index < numeric.length; index++) {
      if (numeric[index]! - numeric[index - 1]! <= 10) near++;
    }
    expect(near / (numeric.length - 1), 'share of numbers within 10 of the previous one').toBeGreaterThan(
      0.9,
    );
  });

  it('goes through the account’s own OTP flow: usual key, servers, client and template', () => {
    const usual = before.filter((message) => message.apiKeyId === label.apiKeyIds[0]);
    expect(usual.length, 'the key sent legitimate traffic before').toBeGreaterThan(10);
    const usualIps = new Set(usual.map((message) => message.sourceIp));
    const usualAgents = new Set(usual.map((message) => message.userAgent));
    expect(
      pumped.every((message) => message.apiKeyId === label.apiKeyIds[0]),
      'same key',
    ).toBe(true);
    expect(
      pumped.every((message) => usualIps.has(message.sourceIp)),
      'same servers',
    ).toBe(true);
    expect(
      pumped.every((message) => usualAgents.has(message.userAgent)),
      'same client',
    ).toBe(true);
    const skeleton = (body: string | undefined): string => (body ?? '').replace(/\d+/g, '#');
    const usualSkeletons = new Set(usual.map((message) => skeleton(message.body)));
    const matching = pumped.filter((message) => usualSkeletons.has(skeleton(message.body))).length;
    expect(matching / pumped.length, 'OTP template seen before').toBeGreaterThan(0.5);
  });

  it('collapses OTP conversion', () => {
    const pumpedIds = new Set(pumped.map((message) => message.eventId));
    const feedback = run.events.filter(
      (event) => event.type === 'message.feedback' && event.accountId === accountId,
    );
    const pumpedFeedback = feedback.filter(
      (event) => event.type === 'message.feedback' && pumpedIds.has(event.messageId),
    );
    const earlierFeedback = feedback.filter((event) => event.eventTime < atMs);
    const convertedShare = (events: typeof feedback): number =>
      events.filter((event) => event.type === 'message.feedback' && event.converted).length / events.length;
    expect(pumpedFeedback.length, 'feedback reported for pumped codes').toBeGreaterThan(pumped.length * 0.5);
    expect(convertedShare(pumpedFeedback), 'pumped conversion').toBeLessThan(0.03);
    expect(convertedShare(earlierFeedback), 'normal conversion before').toBeGreaterThan(0.6);
  });
});

describe('NumberBlockWalker', () => {
  it('stays in a few of the country’s mobile ranges', () => {
    const walker = new NumberBlockWalker(new Prng(3), countryInfo('BD'));
    const numbers = Array.from({ length: 2000 }, () => walker.next());
    const prefixes = new Set(numbers.map((number) => number.slice(0, 6)));
    expect(walker.prefixes.length).toBeLessThanOrEqual(3);
    expect(prefixes.size, 'few operator ranges').toBeLessThanOrEqual(3);
    expect(
      numbers.every((number) => destinationOf(number).valid),
      'all valid numbers',
    ).toBe(true);
  });
});
