/**
 * Scenario names mapped to their factories and option types, so a plan entry's options are
 * type-checked against the scenario it names.
 */
import { type AccountTakeoverOptions, accountTakeover } from './account-takeover.ts';
import { type CrossAccountCampaignOptions, crossAccountCampaign } from './cross-account-campaign.ts';
import { type LegitBlastOptions, legitBlast } from './legit-blast.ts';
import { type LowAndSlowOptions, lowAndSlow } from './low-and-slow.ts';
import { type OptOutStormOptions, optOutStorm } from './opt-out-storm.ts';
import type { Scenario, ScenarioName, ScenarioSetup } from './scenario.ts';
import { type SmsPumpingOptions, smsPumping } from './sms-pumping.ts';
import { type ThirdPartyMisuseOptions, thirdPartyMisuse } from './third-party-misuse.ts';

export interface ScenarioOptionsByName {
  account_takeover: AccountTakeoverOptions;
  sms_pumping: SmsPumpingOptions;
  opt_out_storm: OptOutStormOptions;
  low_and_slow: LowAndSlowOptions;
  legit_blast: LegitBlastOptions;
  cross_account_campaign: CrossAccountCampaignOptions;
  third_party_misuse: ThirdPartyMisuseOptions;
}

/** One scenario to inject: which, when it starts, and its options. */
export type ScenarioPlanEntry = {
  [Name in ScenarioName]: { name: Name; atMs: number; options?: ScenarioOptionsByName[Name] };
}[ScenarioName];

export function createScenario(setup: ScenarioSetup, entry: ScenarioPlanEntry): Scenario {
  switch (entry.name) {
    case 'account_takeover':
      return accountTakeover(setup, entry.options);
    case 'sms_pumping':
      return smsPumping(setup, entry.options);
    case 'opt_out_storm':
      return optOutStorm(setup, entry.options);
    case 'low_and_slow':
      return lowAndSlow(setup, entry.options);
    case 'legit_blast':
      return legitBlast(setup, entry.options);
    case 'cross_account_campaign':
      return crossAccountCampaign(setup, entry.options);
    case 'third_party_misuse':
      return thirdPartyMisuse(setup, entry.options);
  }
}
