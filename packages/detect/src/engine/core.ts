/**
 * What signal modules may use of the engine: effective thresholds (with country/account overrides
 * and allow-lists applied), the population prior, the emit path (which assigns ids, severity
 * bounds, repeat suppression and evidence) and the suspicion bookkeeping shared across signals.
 */
import type { DetectConfig, DetectionKind, Severity } from '../config.ts';
import type { NormalizedOutbound } from '../normalized-event.ts';
import type { AccountState, RiskyAudit, TrackerFactory } from './account-state.ts';
import type { AllowRecipient } from './allow-list.ts';
import type { EvidenceFocus } from './evidence-buffer.ts';

export type EffectiveThresholds = Pick<
  DetectConfig,
  'volume' | 'destination' | 'content' | 'optOut' | 'credential' | 'delivery'
>;

export interface EmitRequest {
  kind: DetectionKind;
  account: AccountState;
  key: string;
  /** Length of the window the observation covers, ending at the trigger's bucket. */
  windowMs: number;
  timeMs: number;
  observed: number;
  expected: number;
  score: number;
  severity: Severity;
  reason: string;
  metrics: Record<string, number>;
  messagesBeforeDetection: number;
  anomalyStartMs: number;
  focus: EvidenceFocus;
  trigger?: NormalizedOutbound;
  audits?: readonly RiskyAudit[];
  labels?: Record<string, string>;
}

export interface EngineCore {
  readonly config: DetectConfig;
  readonly factory: TrackerFactory;
  thresholds(
    account: AccountState,
    country?: string,
    apiKeyId?: string,
    fingerprint?: string,
    recipient?: AllowRecipient,
  ): EffectiveThresholds | null;
  /** Typical per-minute rate of mature peer keys of this level (geometric mean). */
  prior(level: 'account' | 'apiKey' | 'country'): number;
  isMature(account: AccountState, timeMs: number): boolean;
  /**
   * True when a detection of this kind, key and severity would be suppressed as a repeat; counts it
   * as suppressed. Lets a signal skip building a request that `emit` would drop.
   */
  suppressRepeat(
    account: AccountState,
    kind: DetectionKind,
    key: string,
    timeMs: number,
    severity: Severity,
  ): boolean;
  /** Returns true when the detection was emitted (not suppressed as a repeat). */
  emit(request: EmitRequest): boolean;
  /** Marks the account suspicious (novel network, key, domain, scope violation, risky audit). */
  noteNovelty(account: AccountState, timeMs: number, reason: string, apiKeyId?: string): void;
  /** Was there a novelty on the account within the last hour of event time? */
  recentNovelty(account: AccountState, timeMs: number, apiKeyId?: string): string | undefined;
  /** Audit events of a takeover chain that precede `timeMs` within the configured window. */
  takeoverChain(account: AccountState, timeMs: number, apiKeyId?: string): RiskyAudit[];
}
