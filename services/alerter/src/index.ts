export { type AlerterDependencies, type AlerterHandle, startAlerter } from './alerter.ts';
export {
  type AlerterConfig,
  type AlerterConfigInput,
  alerterConfigSchema,
  alerterEnv,
  alerterSecretPaths,
  loadAlerterConfig,
} from './config.ts';
export { incidentConsoleRoutes } from './console.ts';
export { parseDuration } from './durations.ts';
export { AlerterError, type AlerterErrorCode, type RuleProblem, RulesError } from './errors.ts';
export {
  type IncidentActionInput,
  incidentActionInputSchema,
  loadIncidentActions,
  recordIncidentAction,
} from './incidents/actions.ts';
export type { ActionOutcome, AlertInstance } from './incidents/book.ts';
export type {
  Incident,
  IncidentAction,
  IncidentActionKind,
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
export { type AlerterSetup, alerterService, loadAlerterSetup } from './service.ts';
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
