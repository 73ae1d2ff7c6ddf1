import type { FloodgateEvent, OutboundMessage } from '@floodgate/schema';
import { destinationOf } from '@floodgate/schema';
import { describe, expect, it } from 'vitest';
import { simulate } from './simulate.ts';
import { hourMs, inNetwork, testPeriodStartMs } from './test-helpers.ts';

const durationMs = 24 * hourMs;
// Scaled down so the file runs in about a second; shapes and shares do not depend on the scale.
const run = simulate({
  seed: 9,
  startMs: testPeriodStartMs,
  durationMs,
  accounts: 80,
  scenarios: [],
  benignRateMultiplier: 0.3,
});
const accounts = new Map(run.accounts.map((account) => [account.accountId, account]));
const outbound = run.events.filter((event): event is OutboundMessage => event.type === 'message.outbound');
const optOutPattern =
  /^(stop|unsubscribe|stopall|cancel|end|quit|optout|baja|sair|parar|arr[eê]t|abmelden|stopp)\b|stop texting|please stop|stop sending|remove me|no más|pare de|arrêtez|keine sms/i;

function ofType<T extends FloodgateEvent['type']>(type: T): Array<Extract<FloodgateEvent, { type: T }>> {
  return run.events.filter((event): event is Extract<FloodgateEvent, { type: T }> => event.type === type);
}

describe('benign traffic', () => {
  it('opts out 0.1-1 % of marketing messages', () => {
    const marketing = outbound.filter((message) => message.metadata?.['purpose'] === 'marketing');
    const marketingRecipients = new Set(marketing.map((message) => `${message.accountId}|${message.to}`));
    const optOuts = ofType('message.inbound').filter(
      (reply) =>
        optOutPattern.test(reply.body) && marketingRecipients.has(`${reply.accountId}|${reply.from}`),
    );
    expect(marketing.length, 'enough marketing traffic to measure').toBeGreaterThan(5000);
    const rate = optOuts.length / marketing.length;
    expect(rate, `opt-out rate ${rate}`).toBeGreaterThanOrEqual(0.001);
    expect(rate, `opt-out rate ${rate}`).toBeLessThanOrEqual(0.01);
  });

  it('delivers 95-98 % and fails, bounces or filters the rest at realistic rates', () => {
    const finals = ofType('message.status').filter((status) => status.status !== 'sent');
    const shareOf = (...statuses: string[]): number =>
      finals.filter((status) => statuses.includes(status.status)).length / finals.length;
    // Statuses of the period's last half minute fall after its end and are cut off.
    const settled = outbound.filter((message) => message.eventTime < testPeriodStartMs + durationMs - 30_000);
    expect(finals.length, 'one final status per message').toBeGreaterThanOrEqual(settled.length);
    expect(finals.length, 'one final status per message').toBeLessThanOrEqual(outbound.length);
    expect(shareOf('delivered'), 'delivered share').toBeGreaterThanOrEqual(0.95);
    expect(shareOf('delivered'), 'delivered share').toBeLessThanOrEqual(0.98);
    expect(shareOf('undelivered', 'failed'), 'failure share').toBeGreaterThanOrEqual(0.01);
    expect(shareOf('undelivered', 'failed'), 'failure share').toBeLessThanOrEqual(0.04);
    expect(shareOf('filtered'), 'carrier filtering share').toBeGreaterThan(0);
    expect(shareOf('filtered'), 'carrier filtering share').toBeLessThan(0.01);
    const filteredCodes = new Set(
      finals.filter((status) => status.status === 'filtered').map((status) => status.errorCode),
    );
    expect(filteredCodes.has('30007'), 'filtering uses carrier-filtering codes').toBe(true);
  });

  it('reports each status 1-30 s after its message', () => {
    const sentAt = new Map(outbound.map((message) => [message.eventId, message.eventTime]));
    const delivered = ofType('message.status').filter((event) => event.status === 'delivered');
    const late = delivered.filter((status) => {
      const delay = status.eventTime - (sentAt.get(status.messageId) ?? Number.NaN);
      return !(delay >= 1000 && delay <= 30_000);
    });
    expect(delivered.length).toBeGreaterThan(10_000);
    expect(late.slice(0, 5), 'delivered statuses outside 1-30 s').toEqual([]);
  });

  it('converts 70-90 % of OTPs and sometimes resends a code', () => {
    const feedback = ofType('message.feedback');
    const conversion = feedback.filter((event) => event.converted).length / feedback.length;
    expect(conversion, 'OTP conversion').toBeGreaterThan(0.7);
    expect(conversion, 'OTP conversion').toBeLessThan(0.9);
    const otp = outbound.filter((message) => message.metadata?.['purpose'] === 'otp');
    const lastTo = new Map<string, number>();
    let resends = 0;
    for (const message of otp) {
      const key = `${message.accountId}|${message.to}`;
      const previous = lastTo.get(key);
      if (previous !== undefined && message.eventTime - previous <= 90_000) resends++;
      lastTo.set(key, message.eventTime);
    }
    expect(resends, 'OTP resends within 90 s').toBeGreaterThan(10);
    const distinct = new Set(otp.map((message) => `${message.accountId}|${message.to}`)).size;
    expect(distinct / otp.length, 'OTP users come back').toBeLessThan(0.9);
  });

  it('follows the recipients’ day: nights are quiet', () => {
    const byLocalHour = new Array<number>(24).fill(0);
    for (const message of outbound) {
      const account = accounts.get(message.accountId);
      if (account === undefined || account.homeCountries.length > 1) continue;
      const localHour = Math.floor(
        ((((message.eventTime / 60_000 + account.utcOffsetMinutes) % 1440) + 1440) % 1440) / 60,
      );
      byLocalHour[localHour]!++;
    }
    const night = (byLocalHour[2]! + byLocalHour[3]! + byLocalHour[4]!) / 3;
    const day = (byLocalHour[11]! + byLocalHour[12]! + byLocalHour[13]!) / 3;
    expect(night / day, `night/day ratio, hours: ${byLocalHour.join(' ')}`).toBeLessThan(0.25);
  });

  it('sends a little to countries outside the account’s markets', () => {
    const sample = outbound.filter((_, index) => index % 20 === 0);
    const foreign = sample.filter((message) => {
      const account = accounts.get(message.accountId);
      const country = destinationOf(message.to).country;
      return (
        account !== undefined &&
        !account.homeCountries.includes(country) &&
        account.expansion?.country !== country
      );
    });
    const foreignShare = foreign.length / sample.length;
    expect(foreignShare, 'roaming share').toBeGreaterThan(0.0005);
    expect(foreignShare, 'roaming share').toBeLessThan(0.02);
  });

  it('logs consoles in from the office with MFA, and a few times from elsewhere', () => {
    const logins = ofType('account.audit').filter((audit) => audit.action === 'login');
    const fromOffice = logins.filter((login) => {
      const account = accounts.get(login.accountId);
      return (
        account !== undefined &&
        login.sourceIp !== undefined &&
        inNetwork(login.sourceIp, account.officeNetwork)
      );
    });
    expect(logins.length, 'daily-ish logins').toBeGreaterThan(80);
    expect(fromOffice.length / logins.length, 'office share of logins').toBeGreaterThan(0.8);
    const travelling = logins.filter((login) => !fromOffice.includes(login) && login.mfaUsed === true);
    expect(travelling.length, 'MFA logins from other networks').toBeGreaterThan(0);
    const enforced = logins.filter((login) => accounts.get(login.accountId)?.mfaEnforced === true);
    expect(
      enforced.every((login) => login.mfaUsed === true),
      'MFA-enforcing accounts log in with MFA',
    ).toBe(true);
  });

  it('sends benign traffic only with the account’s keys from their usual networks', () => {
    const keys = new Map(run.inventory.map((entry) => [entry.keyId, entry]));
    const strays = outbound.filter((message) => {
      const entry = keys.get(message.apiKeyId);
      return (
        entry?.accountId !== message.accountId ||
        !entry.allowedNetworks.some(
          (cidr) => message.sourceIp !== undefined && inNetwork(message.sourceIp, cidr),
        )
      );
    });
    expect(strays.slice(0, 3), 'messages with a foreign key or from outside the key’s networks').toEqual([]);
  });
});
