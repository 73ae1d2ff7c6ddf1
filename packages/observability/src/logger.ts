/**
 * Structured logging for every service. Redaction is configuration, not discipline: secrets, message
 * bodies and phone numbers are censored by path wherever they appear in a log object.
 */
import { type Logger, type LoggerOptions, pino } from 'pino';

/** Keys that hold secrets or personal data, at the top level and one or two levels down. */
const sensitiveKeys = [
  'password',
  'secret',
  'token',
  'authorization',
  'routingKey',
  'webhookUrl',
  'hmacKey',
  'apiKey',
  'body',
  'to',
  'from',
  'phone',
  'recipient',
];

export const redactPaths: string[] = sensitiveKeys.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

export interface LoggerConfig {
  level?: LoggerOptions['level'];
  service: string;
  /** Write to this destination instead of stdout (tests). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(config: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level: config.level ?? 'info',
    base: { service: config.service },
    redact: { paths: redactPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return config.destination ? pino(options, config.destination as never) : pino(options);
}

export type { Logger };
