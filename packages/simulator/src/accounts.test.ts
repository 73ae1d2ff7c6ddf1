import { describe, expect, it } from 'vitest';
import { generateAccounts } from './accounts.ts';
import { Prng } from './prng.ts';
import { hourMs, inNetwork, testPeriodStartMs } from './test-helpers.ts';

const options = {
  count: 300,
  periodStartMs: testPeriodStartMs,
  periodEndMs: testPeriodStartMs + 48 * hourMs,
  rateMultiplier: 1,
};
const accounts = generateAccounts(new Prng(5), options);

function share(predicate: (index: number) => boolean): number {
  return accounts.filter((_, index) => predicate(index)).length / accounts.length;
}

describe('generateAccounts', () => {
  it('is a pure function of the seed', () => {
    expect(generateAccounts(new Prng(5), options), 'same seed, same profiles').toEqual(accounts);
    const other = generateAccounts(new Prng(6), options);
    expect(
      other.map((account) => account.brand),
      'another seed, other brands',
    ).not.toEqual(accounts.map((a) => a.brand));
  });

  it('numbers accounts and their keys in one scheme', () => {
    expect(new Set(accounts.map((account) => account.accountId)).size).toBe(300);
    for (const account of accounts) {
      const number = account.accountId.slice(5);
      for (const key of account.apiKeys) {
        expect(key.keyId, `key of ${account.accountId}`).toMatch(new RegExp(`^key_${number}_\\d+$`));
      }
      const ownKeys = account.apiKeys.filter((key) => key.thirdParty === undefined).length;
      expect(ownKeys, `${account.accountId} own keys`).toBeGreaterThanOrEqual(1);
      expect(ownKeys, `${account.accountId} own keys`).toBeLessThanOrEqual(4);
    }
  });

  it('spreads base rates log-normally with a few large senders', () => {
    const rates = accounts.map((account) => account.baseRatePerMinute);
    const ordinary = rates.filter((rate) => rate >= 0.05 && rate <= 5).length / rates.length;
    expect(ordinary, 'most accounts send 0.05-5 msgs/min').toBeGreaterThan(0.8);
    expect(rates.filter((rate) => rate >= 20).length, 'a few large senders').toBeGreaterThanOrEqual(3);
    expect(Math.max(...rates), 'no sender above 100/min').toBeLessThanOrEqual(100);
  });

  it('serves mostly one country, some two to four', () => {
    expect(
      share((index) => accounts[index]!.homeCountries.length === 1),
      'single-market share',
    ).toBeGreaterThan(0.55);
    expect(Math.max(...accounts.map((account) => account.homeCountries.length))).toBeLessThanOrEqual(4);
    expect(
      new Set(accounts.map((account) => account.homeCountries[0])).size,
      'international mix',
    ).toBeGreaterThan(10);
  });

  it('keeps 3 to 12 templates per account, fitting its use', () => {
    for (const account of accounts) {
      expect(account.templates.length, `${account.accountId} templates`).toBeGreaterThanOrEqual(3);
      expect(account.templates.length, `${account.accountId} templates`).toBeLessThanOrEqual(12);
      const otpTemplates = account.templates.filter((template) => template.purpose === 'otp').length;
      if (account.use === 'otp')
        expect(otpTemplates, `${account.accountId} is an OTP sender`).toBeGreaterThan(0);
      if (account.use === 'notifications') expect(otpTemplates, `${account.accountId} sends no OTPs`).toBe(0);
    }
  });

  it('uses keys only from their own networks', () => {
    for (const account of accounts) {
      for (const key of account.apiKeys) {
        for (const ip of key.sourceIps) {
          expect(
            key.networks.some((cidr) => inNetwork(ip, cidr)),
            `${key.keyId} uses ${ip} outside ${key.networks.join(', ')}`,
          ).toBe(true);
        }
      }
    }
  });

  it('schedules weekly blasts for about 5 % of accounts, marketing senders only', () => {
    const weekly = accounts.filter((account) => account.blast?.periodDays === 7);
    expect(weekly.length / accounts.length, 'weekly blast share').toBeGreaterThan(0.02);
    expect(weekly.length / accounts.length, 'weekly blast share').toBeLessThan(0.1);
    for (const account of accounts.filter((candidate) => candidate.blast !== undefined)) {
      expect(['marketing', 'mixed'], `${account.accountId} blasts`).toContain(account.use);
      expect(account.blast!.multiplier).toBeGreaterThanOrEqual(10);
      expect(account.blast!.multiplier).toBeLessThanOrEqual(50);
      expect(account.templates.some((template) => template.templateId === account.blast!.templateId)).toBe(
        true,
      );
    }
  });

  it('sends from senders each market allows', () => {
    for (const account of accounts) {
      for (const sender of account.senders) {
        if (sender.country === 'US' || sender.country === 'CA') {
          expect(sender.kind, `${account.accountId} in ${sender.country}`).not.toBe('alphanumeric');
        }
        if (sender.kind === 'alphanumeric') expect(sender.address).toMatch(/^[A-Za-z0-9]{3,11}$/);
      }
    }
  });
});
