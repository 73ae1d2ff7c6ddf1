export type {
  AccountProfile,
  AccountUse,
  ApiKeyProfile,
  BlastSchedule,
  DeliveryProfile,
  MarketProfile,
  SenderKind,
  SenderProfile,
  TemplateProfile,
} from './accounts.ts';
export type { BlastOccurrence } from './benign.ts';
export { Prng } from './prng.ts';
export { defaultScenarioPlan } from './scenario-plan.ts';
export type { AccountTakeoverOptions } from './scenarios/account-takeover.ts';
export type { CrossAccountCampaignOptions } from './scenarios/cross-account-campaign.ts';
export type { LegitBlastOptions } from './scenarios/legit-blast.ts';
export type { LowAndSlowOptions } from './scenarios/low-and-slow.ts';
export type { OptOutStormOptions } from './scenarios/opt-out-storm.ts';
export type { ScenarioOptionsByName, ScenarioPlanEntry } from './scenarios/registry.ts';
export {
  type ScenarioLabel,
  type ScenarioName,
  ScenarioSetupError,
  scenarioNames,
} from './scenarios/scenario.ts';
export type { SmsPumpingOptions } from './scenarios/sms-pumping.ts';
export type { ThirdPartyMisuseOptions, ThirdPartyMisuseVariant } from './scenarios/third-party-misuse.ts';
export {
  type PreparedSimulation,
  prepareSimulation,
  type SimulationOptions,
  SimulationOptionsError,
  type SimulationResult,
  simulate,
  simulateStream,
} from './simulate.ts';
