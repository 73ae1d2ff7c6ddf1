/**
 * Loads a config once at start-up: an optional JSON file, then environment variables on top, then
 * one zod parse. Every problem is reported at once, named by the variable (or file key) to fix.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from './errors.ts';

export type EnvMap = Readonly<Record<string, string>>;

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** JSON config file; defaults to $FLOODGATE_CONFIG when set. */
  file?: string;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (let i = 0; i < keys.length - 1; i++) {
    const key = keys[i] as string;
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] as string] = value;
}

export function loadConfig<S extends z.ZodType>(
  schema: S,
  envMap: EnvMap,
  options: LoadOptions = {},
): z.infer<S> {
  const env = options.env ?? process.env;
  const file = options.file ?? env['FLOODGATE_CONFIG'];
  const raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      throw new ConfigError(
        [{ source: file, path: '', message: `cannot read config file: ${(cause as Error).message}` }],
        { cause },
      );
    }
    Object.assign(raw, parseConfigFile(text, file));
  }
  const sourceOfPath = new Map<string, string>();
  for (const [variable, path] of Object.entries(envMap)) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    setPath(raw, path, value);
    sourceOfPath.set(path, variable);
  }
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const variableOfPath = new Map(Object.entries(envMap).map(([variable, path]) => [path, variable]));
  const problems: ConfigProblem[] = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    // Name the variable that was set, else the one a person would set, else the file key.
    let source = sourceOfPath.get(path) ?? variableOfPath.get(path);
    if (!source) {
      for (const [candidatePath, variable] of variableOfPath) {
        if (path.startsWith(`${candidatePath}.`) || candidatePath.startsWith(`${path}.`)) {
          source = variable;
          break;
        }
      }
    }
    return { source: source ?? (file ? `${file}: ${path}` : path), path, message: issue.message };
  });
  throw new ConfigError(problems);
}

/** Copy of a config with every secret replaced, for `check-config` and start-up logs. */
export function redactConfig<T>(config: T, secretPaths: readonly string[]): T {
  const copy = structuredClone(config) as Record<string, unknown>;
  for (const path of secretPaths) {
    const keys = path.split('.');
    let node: unknown = copy;
    for (let i = 0; i < keys.length - 1 && typeof node === 'object' && node !== null; i++) {
      node = (node as Record<string, unknown>)[keys[i] as string];
    }
    const last = keys[keys.length - 1] as string;
    if (typeof node === 'object' && node !== null && (node as Record<string, unknown>)[last] !== undefined) {
      (node as Record<string, unknown>)[last] = '***';
    }
  }
  return copy as T;
}

/**
 * The JSON object in a config file's text. When it is not valid JSON the error never shows the
 * text: JSON.parse's own message can quote it around the fault, and that can be a password.
 */
export function parseConfigFile(text: string, source: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // Some of V8's messages give a position (and nothing of the text); keep only that.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    const where = position === undefined ? '' : ` at character ${position}`;
    throw new ConfigError([
      {
        source,
        path: '',
        message: `config file is not valid JSON${where} (its text is not shown: it may hold secrets)`,
      },
    ]);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ConfigError([{ source, path: '', message: 'config file must hold a JSON object' }]);
  return parsed as Record<string, unknown>;
}
