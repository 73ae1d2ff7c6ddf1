export { type AlerterDependencies, type AlerterHandle, startAlerter } from './alerter.ts';
export {
  type AlerterConfig,
  type AlerterConfigInput,
  alerterConfigSchema,
  alerterEnv,
  loadAlerterConfig,
} from './config.ts';
export { parseDuration } from './durations.ts';
export { AlerterError, type AlerterErrorCode, type RuleProblem, RulesError } from './errors.ts';
export type { AlertInstance } from './incidents/book.ts';
export type {
  Incident,
  IncidentState,
  NotificationAction,
  NotificationRecord,
  NotificationStatus,
} from './incidents/incident.ts';
export { AlertStore } from './incidents/store.ts';
export { incidentLink } from './notify/render.ts';
export { signatureHeader, signBody, timestampHeader, verifySignature } from './notify/signature.ts';
export {
  type DetectionRule,
  loadRules,
  parseRules,
  type Receiver,
  type Rule,
  type RuleSet,
  type SqlRule,
} from './rules/load.ts';
export { matchesDetection, observedRatio } from './rules/match.ts';
export type { RulesFileInput } from './rules/schema.ts';
export {
  createSilence,
  expireSilence,
  findSilence,
  type ListSilencesOptions,
  listSilences,
  type Matcher,
  matcherMatches,
  type Silence,
  type SilenceInput,
} from './silences/silences.ts';
export { evaluateSqlRule, sqlRuleSettings } from './sql-rules.ts';
