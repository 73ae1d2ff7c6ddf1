/** Typed errors of the alerter: a stable `code`, the cause kept. */
export const alerterErrorCodes = [
  'ALERT_RULES_INVALID',
  'ALERT_RULES_UNREADABLE',
  'ALERT_SILENCE_INVALID',
  'ALERT_ACTION_INVALID',
  'ALERT_INCIDENT_NOT_FOUND',
  'ALERT_INCIDENT_RESOLVED',
  'ALERT_DELIVERY_FAILED',
] as const;
export type AlerterErrorCode = (typeof alerterErrorCodes)[number];

export class AlerterError extends Error {
  readonly code: AlerterErrorCode;
  constructor(code: AlerterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AlerterError';
    this.code = code;
  }
}

/** One problem of a rules file: where it is (file:line:column and the path inside) and what is wrong. */
export interface RuleProblem {
  /** `rules.yaml:12:7`, or the file alone when the position is unknown. */
  location: string;
  /** Dotted path inside the document, e.g. `rules[2].match.min_score`. */
  path: string;
  message: string;
}

export class RulesError extends AlerterError {
  readonly problems: RuleProblem[];
  constructor(file: string, problems: RuleProblem[], options?: { cause?: unknown }) {
    super(
      'ALERT_RULES_INVALID',
      `invalid alerting rules in ${file} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems
        .map((p) => `  - ${p.location}${p.path ? ` ${p.path}` : ''}: ${p.message}`)
        .join('\n')}`,
      options,
    );
    this.name = 'RulesError';
    this.problems = problems;
  }
}
