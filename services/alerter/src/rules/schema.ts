/**
 * The rules file: receivers, defaults and rules (detection rules and scheduled SQL threshold rules),
 * as one zod schema. Everything is validated once at start; the rest of the alerter trusts the
 * result (durations in ms, secrets resolved, receiver references checked).
 */
import { detectionKinds, severities } from '@floodgate/detect';
import { z } from 'zod';
import { parseDuration } from '../durations.ts';

export const alertSeverities = ['critical', 'error', 'warning', 'info'] as const;
export type AlertSeverity = (typeof alertSeverities)[number];

const name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'expected a name of letters, digits, _ . - (at most 100)');

const duration = z.union([z.string(), z.number().int().nonnegative()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a duration such as 30s, 15m, 1h30m (got "${value}")` });
    return z.NEVER;
  }
  return ms;
});

/** A secret: a literal, or `{ env: NAME }` read from the environment at load (never stored or logged). */
const secret = z.union([
  z.string().min(1),
  z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/) }),
]);
export type SecretRef = z.infer<typeof secret>;

const url = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });
/** A URL that may carry a token (Slack, webhooks): literal or from the environment. */
const secretUrl = z.union([url, z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/) })]);

const receiverCommon = {
  name,
  /** Per-attempt timeout. */
  timeout: duration.default(10_000),
};

export const receiverSchema = z.discriminatedUnion('type', [
  z.strictObject({
    ...receiverCommon,
    type: z.literal('pagerduty'),
    url: url.default('https://events.pagerduty.com/v2/enqueue'),
    routing_key: secret,
    /** `source` of the PagerDuty payload (default: floodgate). */
    source: z.string().min(1).default('floodgate'),
  }),
  z.strictObject({
    ...receiverCommon,
    type: z.literal('alertmanager'),
    /** Base URL of Alertmanager; alerts are POSTed to <url>/api/v2/alerts. */
    url,
    /** Firing alerts are re-sent this often; endsAt is 4× this ahead, as Prometheus does. */
    resend_interval: duration.default(60_000),
  }),
  z.strictObject({ ...receiverCommon, type: z.literal('slack'), url: secretUrl }),
  z.strictObject({
    ...receiverCommon,
    type: z.literal('webhook'),
    url: secretUrl,
    /** HMAC-SHA256 key for the X-Floodgate-Signature header. */
    secret,
  }),
]);
export type ReceiverSpec = z.infer<typeof receiverSchema>;

const mode = z.enum(['live', 'shadow']);
const groupBy = z.array(z.string().min(1)).min(1);

/** What a rule may set and defaults provides. */
const routing = {
  receivers: z.array(name).min(1).optional(),
  group_by: groupBy.optional(),
  /** The condition must hold this long before the incident fires (pending until then). */
  for: duration.optional(),
  /** Re-notify a still-firing incident this often (PagerDuty keeps one incident per dedup key). */
  repeat_interval: duration.optional(),
  /** Resolve when nothing matched for this long. */
  resolve_after: duration.optional(),
  mode: mode.optional(),
};

const containmentSchema = z.strictObject({
  /** A `webhook` receiver: the action endpoint (e.g. "suspend API key"). */
  receiver: name,
  action: z.string().min(1).default('suspend_api_keys'),
  mode: z.enum(['dry-run', 'enforce']).default('dry-run'),
  /** Every action expires unless renewed by new matching detections. */
  expires_after: duration.default(3_600_000),
  /** Only incidents of this severity or above trigger it. */
  min_severity: z.enum(alertSeverities).default('critical'),
});
export type ContainmentSpec = z.infer<typeof containmentSchema>;

const severityMap = z.strictObject({
  critical: z.enum(alertSeverities).optional(),
  warning: z.enum(alertSeverities).optional(),
  info: z.enum(alertSeverities).optional(),
});

const detectionRuleSchema = z.strictObject({
  type: z.literal('detection'),
  name,
  description: z.string().optional(),
  match: z
    .strictObject({
      kinds: z.array(z.enum(detectionKinds)).min(1).optional(),
      severities: z.array(z.enum(severities)).min(1).optional(),
      min_score: z.number().optional(),
      /** observed / expected (expected 0 counts as infinitely anomalous). */
      min_ratio: z.number().positive().optional(),
      min_observed: z.number().optional(),
      accounts: z.array(z.string().min(1)).min(1).optional(),
      exclude_accounts: z.array(z.string().min(1)).optional(),
      /** Detection labels that must be equal. */
      labels: z.record(z.string(), z.string()).optional(),
    })
    .prefault({}),
  /** Fixed alert severity, or a map from detection severity (default: the same name). */
  severity: z.union([z.enum(alertSeverities), severityMap]).optional(),
  labels: z.record(z.string(), z.string()).default({}),
  containment: containmentSchema.optional(),
  ...routing,
});

const sqlRuleSchema = z.strictObject({
  type: z.literal('sql'),
  name,
  description: z.string().optional(),
  /** SELECT with `{name:Type}` query parameters; every returned row is a firing alert instance. */
  sql: z.string().min(1).optional(),
  /** Or a file (relative to the rules file), e.g. a cookbook query. */
  sql_file: z.string().min(1).optional(),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  every: duration.default(60_000),
  /** Columns that identify an instance and become its labels (default: every non-numeric column). */
  labels_from: z.array(z.string().min(1)).min(1).optional(),
  /** Summary with `{column}` placeholders. */
  summary: z.string().optional(),
  severity: z.enum(alertSeverities).default('warning'),
  labels: z.record(z.string(), z.string()).default({}),
  ...routing,
});

const ruleSchema = z.preprocess(
  (value) =>
    typeof value === 'object' && value !== null && !('type' in value)
      ? { type: 'detection', ...value }
      : value,
  z.discriminatedUnion('type', [detectionRuleSchema, sqlRuleSchema]),
);

const placeholder = /\{([A-Za-z_][A-Za-z0-9_]*):[^}]+\}/g;

export function sqlPlaceholders(sql: string): string[] {
  return [...new Set([...sql.matchAll(placeholder)].map((m) => m[1] as string))];
}

export const rulesFileSchema = z
  .strictObject({
    defaults: z
      .strictObject({
        receivers: z.array(name).min(1).optional(),
        group_by: groupBy.default(['account']),
        for: duration.default(0),
        repeat_interval: duration.default(4 * 3_600_000),
        resolve_after: duration.default(15 * 60_000),
        mode: mode.default('live'),
      })
      .prefault({}),
    receivers: z.array(receiverSchema).default([]),
    rules: z.array(ruleSchema).min(1, 'expected at least one rule'),
  })
  .superRefine((file, ctx) => {
    const receiverNames = new Set<string>();
    file.receivers.forEach((receiver, index) => {
      if (receiverNames.has(receiver.name))
        ctx.addIssue({
          code: 'custom',
          path: ['receivers', index, 'name'],
          message: 'duplicate receiver name',
        });
      receiverNames.add(receiver.name);
    });
    const checkReceivers = (list: string[] | undefined, path: (string | number)[]) =>
      list?.forEach((receiver, index) => {
        if (!receiverNames.has(receiver))
          ctx.addIssue({
            code: 'custom',
            path: [...path, index],
            message: `unknown receiver "${receiver}" (defined: ${[...receiverNames].join(', ') || 'none'})`,
          });
      });
    checkReceivers(file.defaults.receivers, ['defaults', 'receivers']);
    const ruleNames = new Set<string>();
    file.rules.forEach((rule, index) => {
      if (ruleNames.has(rule.name))
        ctx.addIssue({ code: 'custom', path: ['rules', index, 'name'], message: 'duplicate rule name' });
      ruleNames.add(rule.name);
      checkReceivers(rule.receivers, ['rules', index, 'receivers']);
      if (!rule.receivers && !file.defaults.receivers)
        ctx.addIssue({
          code: 'custom',
          path: ['rules', index],
          message: 'no receivers: set receivers on the rule or in defaults',
        });
      if (rule.type === 'detection' && rule.containment) {
        const target = file.receivers.find((r) => r.name === rule.containment?.receiver);
        if (target?.type !== 'webhook')
          ctx.addIssue({
            code: 'custom',
            path: ['rules', index, 'containment', 'receiver'],
            message: 'containment needs a receiver of type webhook',
          });
      }
      if (rule.type === 'sql') {
        if ((rule.sql === undefined) === (rule.sql_file === undefined))
          ctx.addIssue({
            code: 'custom',
            path: ['rules', index, 'sql'],
            message: 'set exactly one of sql, sql_file',
          });
        if (rule.sql !== undefined) {
          const used = sqlPlaceholders(rule.sql);
          for (const param of used)
            if (!(param in rule.params))
              ctx.addIssue({
                code: 'custom',
                path: ['rules', index, 'params'],
                message: `missing value for query parameter {${param}}`,
              });
          for (const param of Object.keys(rule.params))
            if (!used.includes(param))
              ctx.addIssue({
                code: 'custom',
                path: ['rules', index, 'params', param],
                message: `parameter ${param} is not used by the query`,
              });
        }
      }
    });
  });

export type RulesFileInput = z.input<typeof rulesFileSchema>;
export type RulesFile = z.infer<typeof rulesFileSchema>;
export type DetectionRuleSpec = z.infer<typeof detectionRuleSchema>;
export type SqlRuleSpec = z.infer<typeof sqlRuleSchema>;
