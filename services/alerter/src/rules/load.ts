/**
 * Reads a rules file (YAML or JSON — JSON is parsed as YAML, which keeps positions), validates it
 * with the zod schema and reports every problem at once with file:line:column and its path. The
 * result is a RuleSet with defaults applied, secrets resolved from the environment and SQL files
 * read: nothing after start-up looks at the raw document again.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { type RuleProblem, RulesError } from '../errors.ts';
import {
  type AlertSeverity,
  type ContainmentSpec,
  type DetectionRuleSpec,
  type RulesFile,
  rulesFileSchema,
  type SecretRef,
  sqlPlaceholders,
} from './schema.ts';

export type Receiver =
  | { type: 'pagerduty'; name: string; timeoutMs: number; url: string; routingKey: string; source: string }
  | { type: 'alertmanager'; name: string; timeoutMs: number; url: string; resendIntervalMs: number }
  | { type: 'slack'; name: string; timeoutMs: number; url: string }
  | { type: 'webhook'; name: string; timeoutMs: number; url: string; secret: string };

interface RuleCommon {
  name: string;
  description: string;
  receivers: string[];
  /** Label names whose values make one incident; undefined = every label of the instance (SQL rules). */
  groupBy: string[] | undefined;
  forMs: number;
  repeatIntervalMs: number;
  resolveAfterMs: number;
  mode: 'live' | 'shadow';
  labels: Record<string, string>;
}

export interface DetectionRule extends RuleCommon {
  type: 'detection';
  match: DetectionRuleSpec['match'];
  severity: AlertSeverity | Partial<Record<'critical' | 'warning' | 'info', AlertSeverity>>;
  containment: ContainmentSpec | undefined;
}

export interface SqlRule extends RuleCommon {
  type: 'sql';
  sql: string;
  params: Record<string, string | number | boolean>;
  everyMs: number;
  labelsFrom: string[] | undefined;
  summary: string | undefined;
  severity: AlertSeverity;
}

export type Rule = DetectionRule | SqlRule;

export interface RuleSet {
  file: string;
  receivers: Map<string, Receiver>;
  rules: Rule[];
}

export interface LoadRulesOptions {
  /** Where `{ env: NAME }` secrets are read from (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

type PathPart = string | number | symbol;

export function formatPath(path: readonly PathPart[]): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text ? `.${String(part)}` : String(part);
  }
  return text;
}

export function loadRules(file: string, options: LoadRulesOptions = {}): RuleSet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new RulesError(
      file,
      [{ location: file, path: '', message: `cannot read: ${(cause as Error).message}` }],
      {
        cause,
      },
    );
  }
  return parseRules(text, file, options);
}

/** Parses rules from text; `file` names the source in messages and anchors `sql_file` paths. */
export function parseRules(text: string, file: string, options: LoadRulesOptions = {}): RuleSet {
  const env = options.env ?? process.env;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number | undefined): string => {
    if (offset === undefined) return file;
    const pos = lineCounter.linePos(offset);
    return `${file}:${pos.line}:${pos.col}`;
  };
  if (doc.errors.length > 0) {
    throw new RulesError(
      file,
      doc.errors.map((error) => ({
        location: at(error.pos[0]),
        path: '',
        message: error.message.split('\n')[0] ?? '',
      })),
    );
  }
  /** The position of the deepest node that exists on `path` (a missing key points at its parent). */
  const locate = (path: readonly PathPart[]): string => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth) as (string | number)[], true);
      if (isNode(node) && node.range) return at(node.range[0]);
    }
    return file;
  };
  const result = rulesFileSchema.safeParse(doc.toJS());
  if (!result.success) {
    throw new RulesError(
      file,
      result.error.issues.map(
        (issue): RuleProblem => ({
          location: locate(issue.path),
          path: formatPath(issue.path),
          message: issue.message,
        }),
      ),
    );
  }
  const problems: RuleProblem[] = [];
  const readSecret = (ref: SecretRef, path: PathPart[]): string => {
    if (typeof ref === 'string') return ref;
    const value = env[ref.env];
    if (value === undefined || value === '')
      problems.push({
        location: locate(path),
        path: formatPath(path),
        message: `environment variable ${ref.env} is not set`,
      });
    return value ?? '';
  };
  const ruleSet = resolveRules(result.data, file, readSecret, (path, message) =>
    problems.push({ location: locate(path), path: formatPath(path), message }),
  );
  if (problems.length > 0) throw new RulesError(file, problems);
  return ruleSet;
}

function resolveRules(
  parsed: RulesFile,
  file: string,
  readSecret: (ref: SecretRef, path: PathPart[]) => string,
  problem: (path: PathPart[], message: string) => void,
): RuleSet {
  const receivers = new Map<string, Receiver>();
  parsed.receivers.forEach((spec, index) => {
    const base = { name: spec.name, timeoutMs: spec.timeout };
    switch (spec.type) {
      case 'pagerduty':
        receivers.set(spec.name, {
          ...base,
          type: 'pagerduty',
          url: spec.url,
          source: spec.source,
          routingKey: readSecret(spec.routing_key, ['receivers', index, 'routing_key']),
        });
        break;
      case 'alertmanager':
        receivers.set(spec.name, {
          ...base,
          type: 'alertmanager',
          url: spec.url.replace(/\/+$/, ''),
          resendIntervalMs: spec.resend_interval,
        });
        break;
      case 'slack':
        receivers.set(spec.name, {
          ...base,
          type: 'slack',
          url: readSecret(spec.url, ['receivers', index, 'url']),
        });
        break;
      case 'webhook':
        receivers.set(spec.name, {
          ...base,
          type: 'webhook',
          url: readSecret(spec.url, ['receivers', index, 'url']),
          secret: readSecret(spec.secret, ['receivers', index, 'secret']),
        });
        break;
    }
  });
  for (const [index, receiver] of [...receivers.values()].entries()) {
    if (
      (receiver.type === 'slack' || receiver.type === 'webhook') &&
      receiver.url &&
      !/^https?:\/\//.test(receiver.url)
    )
      problem(['receivers', index, 'url'], 'expected an http(s) URL');
  }
  const defaults = parsed.defaults;
  const rules: Rule[] = parsed.rules.map((spec, index) => {
    const common = {
      name: spec.name,
      description: spec.description ?? '',
      receivers: spec.receivers ?? defaults.receivers ?? [],
      forMs: spec.for ?? defaults.for,
      repeatIntervalMs: spec.repeat_interval ?? defaults.repeat_interval,
      mode: spec.mode ?? defaults.mode,
      labels: spec.labels,
    };
    if (spec.type === 'detection') {
      return {
        ...common,
        type: 'detection',
        groupBy: spec.group_by ?? defaults.group_by,
        resolveAfterMs: spec.resolve_after ?? defaults.resolve_after,
        match: spec.match,
        severity: spec.severity ?? {},
        containment: spec.containment,
      };
    }
    let sql = spec.sql ?? '';
    if (spec.sql_file !== undefined) {
      try {
        sql = readFileSync(resolve(dirname(file), spec.sql_file), 'utf8');
      } catch (cause) {
        problem(['rules', index, 'sql_file'], `cannot read: ${(cause as Error).message}`);
      }
      for (const param of sqlPlaceholders(sql))
        if (!(param in spec.params))
          problem(['rules', index, 'params'], `missing value for query parameter {${param}}`);
    }
    return {
      ...common,
      type: 'sql',
      // SQL instances are their own incidents unless the rule groups them, and resolve as soon as
      // an evaluation no longer returns their row (unless the rule asks for a quiet period).
      groupBy: spec.group_by,
      resolveAfterMs: spec.resolve_after ?? 0,
      sql,
      params: spec.params,
      everyMs: spec.every,
      labelsFrom: spec.labels_from,
      summary: spec.summary,
      severity: spec.severity,
    };
  });
  return { file, receivers, rules };
}
