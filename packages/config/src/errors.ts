/** A config that does not validate: every wrong field, named by the variable a person would set. */
export interface ConfigProblem {
  /** Environment variable (or config file path) the value came from. */
  source: string;
  /** Dotted path inside the config object. */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID' as const;
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[], options?: { cause?: unknown }) {
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems
        .map((p) => `  - ${p.source}: ${p.message}`)
        .join('\n')}`,
      options,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
