/**
 * (g) A key shared with an agency (inventory: `thirdParty`, allowed networks and countries) is
 * suddenly used beyond the agreement: from another network, to other countries, or both, with the
 * agency's other clients' content. Before and after, the agency uses it properly (benign traffic).
 */
import { type ApiKeyProfile, thirdPartyKey } from '../accounts.ts';
import { BrandRegistry } from '../brands.ts';
import { countryInfo, homeCountryCodes } from '../countries.ts';
import { fate } from '../message-fate.ts';
import { compileTemplate } from '../message-template.ts';
import { hostIn, hostingNetwork } from '../networks.ts';
import { randomMobileNumber } from '../phone-numbers.ts';
import { templateCatalogue } from '../template-catalogue.ts';
import { AttackSender } from './attack-traffic.ts';
import {
  arrivals,
  clipToPeriod,
  minuteMs,
  overlapWithMinute,
  type Scenario,
  type ScenarioSetup,
  type ScenarioWorld,
} from './scenario.ts';

export type ThirdPartyMisuseVariant = 'foreign_network' | 'foreign_countries' | 'both';

export interface ThirdPartyMisuseOptions {
  accountId?: string;
  variant?: ThirdPartyMisuseVariant;
  /** Misuse rate in messages per minute (default 20–120). */
  ratePerMinute?: number;
  /** Length of the misuse (default 30–180 min). */
  durationMs?: number;
}

export function thirdPartyMisuse(setup: ScenarioSetup, options: ThirdPartyMisuseOptions = {}): Scenario {
  const { rng, atMs } = setup;
  const account = setup.claimAccount((candidate) => !candidate.bodyHashOnly, {
    requestedId: options.accountId,
    prefer: (candidate) => candidate.apiKeys.some((key) => key.thirdParty !== undefined),
  });
  let sharedKey: ApiKeyProfile | undefined = account.apiKeys.find((key) => key.thirdParty !== undefined);
  if (sharedKey === undefined) {
    // The account shared a key long before the period; the agency has used it properly since.
    sharedKey = thirdPartyKey(
      rng,
      account.accountId,
      setup.allocateKeyNumber(account),
      account.purposeWeights,
      account.homeCountries[0] as string,
      setup.periodStartMs,
    );
    account.apiKeys.push(sharedKey);
  }
  const key = sharedKey;
  const variant =
    options.variant ??
    rng.weightedPick(['foreign_network', 'foreign_countries', 'both'] as const, [40, 30, 30]);
  const ratePerSecond = ((options.ratePerMinute ?? rng.uniform(20, 120)) * setup.attackRateMultiplier) / 60;
  const endMs = clipToPeriod(setup, atMs + (options.durationMs ?? rng.uniform(30, 180) * minuteMs));
  const outsideNetwork = variant !== 'foreign_countries';
  const outsideCountries = variant !== 'foreign_network';
  const sourceIps = outsideNetwork
    ? [hostIn(rng, hostingNetwork(rng)), hostIn(rng, hostingNetwork(rng))].slice(0, rng.int(1, 2))
    : key.sourceIps;
  const foreign = homeCountryCodes.filter((code) => !key.allowedCountries.includes(code));
  const countries = outsideCountries
    ? Array.from({ length: rng.int(2, 4) }, () => rng.pick(foreign))
    : [...key.allowedCountries];
  // Content of the agency's other client: someone else's brand and domain.
  const otherBrand = new BrandRegistry().create(rng, 'marketing', countries[0] as string);
  const otherTexts = templateCatalogue.en.marketing;
  const templates = [0, 1].map((index) =>
    compileTemplate(
      `tpl_partner_${index}`,
      'marketing',
      rng.pick(otherTexts).replaceAll('{brand}', otherBrand.name),
      otherBrand.linkDomain,
    ),
  );
  const partnerFate = fate({ undelivered: 0.03, filtered: 0.004, optOut: 0.004, reply: 0.002 });
  const sender = new AttackSender();

  return {
    label: {
      scenario: 'third_party_misuse',
      accountIds: [account.accountId],
      apiKeyIds: [key.keyId],
      startMs: atMs,
      endMs,
      mustDetect: true,
      expectedKinds: ['credential_anomaly'],
      description:
        `Key ${key.keyId} shared with ${key.thirdParty} (allowed ${key.networks.join(', ')} / ` +
        `${key.allowedCountries.join(', ')}) used ${outsideNetwork ? `from ${sourceIps.join(', ')}` : 'from its network'} ` +
        `${outsideCountries ? `to ${[...new Set(countries)].join(', ')}` : 'to allowed countries'} ` +
        `with ${otherBrand.name} marketing (${otherBrand.linkDomain}).`,
    },
    emitMinute(world: ScenarioWorld, minuteStartMs: number): void {
      const window = overlapWithMinute(minuteStartMs, atMs, endMs);
      if (window === undefined) return;
      const runtime = world.runtime(account.accountId);
      const userAgent = runtime.userAgentOf(key, minuteStartMs);
      for (const at of arrivals(rng, window.fromMs, window.toMs, () => ratePerSecond)) {
        const country = countryInfo(rng.pick(countries));
        sender.send(world, rng, {
          account: runtime,
          timeMs: at,
          apiKeyId: key.keyId,
          sourceIp: rng.pick(sourceIps),
          userAgent,
          to: randomMobileNumber(rng, country),
          country,
          template: rng.pick(templates),
          purpose: 'marketing',
          fate: partnerFate,
          viaAccountSoftware: true,
        });
      }
    },
  };
}
