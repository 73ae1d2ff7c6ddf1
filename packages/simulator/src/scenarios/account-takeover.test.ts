import { describe, expect, it } from 'vitest';
import {
  auditsOf,
  hourMs,
  inNetwork,
  linkHosts,
  onlyLabel,
  outboundOf,
  scenarioRun,
  testPeriodStartMs,
} from '../test-helpers.ts';

const atMs = testPeriodStartMs + 2 * hourMs + 7 * 60_000 + 13_000;

describe('account_takeover', () => {
  const run = scenarioRun({ name: 'account_takeover', atMs, options: { keyMethod: 'mfa_disabled_new_key' } });
  const label = onlyLabel(run);
  const accountId = label.accountIds[0]!;
  const account = run.accounts.find((candidate) => candidate.accountId === accountId)!;
  const keyId = label.apiKeyIds[0]!;
  const attack = outboundOf(run, accountId).filter((message) => message.apiKeyId === keyId);
  const firstAttackMs = attack[0]?.eventTime ?? Number.POSITIVE_INFINITY;

  it('labels the takeover as something to detect', () => {
    expect(label.scenario).toBe('account_takeover');
    expect(label.mustDetect).toBe(true);
    expect(label.expectedKinds).toEqual(
      expect.arrayContaining(['credential_anomaly', 'content_burst', 'new_link_domain', 'volume_spike']),
    );
    expect(label.startMs).toBe(atMs);
    expect(attack.length, 'the blast happened').toBeGreaterThan(1000);
    expect(attack.at(-1)!.eventTime).toBeLessThanOrEqual(label.endMs);
  });

  it('logs in without MFA from a new network after failed attempts, then disables MFA and creates the key', () => {
    const audits = auditsOf(run, accountId);
    const attackerLogin = audits.find((audit) => audit.action === 'login' && audit.eventTime >= atMs);
    expect(attackerLogin?.mfaUsed, 'the attacker logs in without MFA').toBe(false);
    const earlierIps = new Set(
      audits.filter((audit) => audit.eventTime < atMs).map((audit) => audit.sourceIp),
    );
    expect(earlierIps.has(attackerLogin?.sourceIp), 'the login network is new to the account').toBe(false);
    expect(inNetwork(attackerLogin!.sourceIp!, account.officeNetwork), 'not from the office').toBe(false);
    const failures = audits.filter(
      (audit) =>
        audit.action === 'login_failed' &&
        audit.eventTime >= atMs &&
        audit.eventTime < attackerLogin!.eventTime,
    );
    expect(failures.length, 'failed attempts before the login').toBeGreaterThanOrEqual(2);
    const sequence = audits
      .filter((audit) => audit.eventTime >= attackerLogin!.eventTime && audit.eventTime < firstAttackMs)
      .map((audit) => audit.action);
    expect(sequence).toEqual(expect.arrayContaining(['login', 'mfa_disabled', 'api_key_created']));
    const created = audits.find((audit) => audit.action === 'api_key_created' && audit.eventTime >= atMs);
    expect(created?.targetApiKeyId, 'the new key is the one that blasts').toBe(keyId);
    expect(created!.eventTime, 'key created before the blast').toBeLessThan(firstAttackMs);
  });

  it('blasts a new link domain to many distinct recipients at tens of messages a second', () => {
    const perSecond = new Map<number, number>();
    for (const message of attack) {
      const second = Math.floor(message.eventTime / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    const busiestMinute = Math.max(
      ...[...perSecond.keys()].map((second) => {
        let sum = 0;
        for (let offset = 0; offset < 60; offset++) sum += perSecond.get(second + offset) ?? 0;
        return sum / 60;
      }),
    );
    expect(busiestMinute, 'peak per-second rate over a minute').toBeGreaterThan(15);
    const recipients = new Set(attack.map((message) => message.to));
    expect(recipients.size / attack.length, 'distinct recipients').toBeGreaterThan(0.99);
    const earlierDomains = new Set(
      outboundOf(run, accountId)
        .filter((message) => message.eventTime < atMs)
        .flatMap((message) => linkHosts(message.body)),
    );
    const attackDomains = new Set(attack.flatMap((message) => linkHosts(message.body)));
    expect(attackDomains.size, 'one campaign domain').toBe(1);
    expect(
      [...attackDomains].some((domain) => earlierDomains.has(domain)),
      'the link domain is new',
    ).toBe(false);
    expect(
      new Set(attack.map((message) => message.body)).size / attack.length,
      'bodies vary',
    ).toBeGreaterThan(0.9);
    const serverIps = attack.filter((message) =>
      account.serverNetworks.some(
        (cidr) => message.sourceIp !== undefined && inNetwork(message.sourceIp, cidr),
      ),
    );
    expect(serverIps.length, 'sent from outside the sender’s servers').toBe(0);
  });

  it('can use an existing key read from the console instead of creating one', () => {
    const existing = scenarioRun(
      {
        name: 'account_takeover',
        atMs,
        options: { keyMethod: 'mfa_disabled_existing_key', burstDurationMs: 5 * 60_000 },
      },
      { seed: 5 },
    );
    const existingLabel = onlyLabel(existing);
    const owner = existing.accounts.find((candidate) => candidate.accountId === existingLabel.accountIds[0]);
    expect(
      owner?.apiKeys.map((key) => key.keyId),
      'the label names a key the account had',
    ).toContain(existingLabel.apiKeyIds[0]);
    const audits = auditsOf(existing, existingLabel.accountIds[0]!).filter(
      (audit) => audit.eventTime >= atMs,
    );
    expect(audits.map((audit) => audit.action)).toContain('mfa_disabled');
    expect(audits.map((audit) => audit.action)).not.toContain('api_key_created');
  });
});
