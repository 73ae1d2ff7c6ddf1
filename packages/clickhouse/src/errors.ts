/** Typed errors of the ClickHouse adapter, each with a stable code and its cause. */
export const clickhouseErrorCodes = [
  'CLICKHOUSE_UNREACHABLE',
  'CLICKHOUSE_MIGRATION_FAILED',
  'CLICKHOUSE_MIGRATION_CHANGED',
  'CLICKHOUSE_RETENTION_SHORTER',
  'CLICKHOUSE_BAD_MIGRATION_NAME',
  'CLICKHOUSE_QUERY_NOT_FOUND',
] as const;
export type ClickhouseErrorCode = (typeof clickhouseErrorCodes)[number];

export class ClickhouseAdapterError extends Error {
  readonly code: ClickhouseErrorCode;
  constructor(code: ClickhouseErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClickhouseAdapterError';
    this.code = code;
  }
}
