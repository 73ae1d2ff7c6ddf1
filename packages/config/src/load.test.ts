import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  clickhouseConnectionSchema,
  connectionEnv,
  kafkaConnectionSchema,
  loggingSchema,
  secretPaths,
} from './connections.ts';
import { ConfigError } from './errors.ts';
import { loadConfig, parseConfigFile, redactConfig } from './load.ts';

const schema = z.object({
  kafka: kafkaConnectionSchema,
  clickhouse: clickhouseConnectionSchema,
  logging: loggingSchema,
});

function problemsFor(env: Record<string, string>): string[] {
  try {
    loadConfig(schema, connectionEnv, { env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.source).sort();
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be rejected`);
}

describe('loadConfig', () => {
  it('applies documented defaults when nothing is set', () => {
    const config = loadConfig(schema, connectionEnv, { env: {} });
    expect(config.kafka.brokers).toBeUndefined();
    expect(config.clickhouse).toMatchObject({
      database: 'floodgate',
      dataPath: '.data/clickhouse',
      retentionDays: 90,
    });
    expect(config.logging.level).toBe('info');
  });

  it('coerces lists, booleans and numbers from strings', () => {
    const config = loadConfig(schema, connectionEnv, {
      env: {
        KAFKA_BROKERS: 'a:9092, b:9093',
        KAFKA_TLS: 'true',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'svc',
        KAFKA_SASL_PASSWORD: 'hunter2',
        CLICKHOUSE_URL: 'https://ch.example:8443',
        CLICKHOUSE_RETENTION_DAYS: '30',
      },
    });
    expect(config.kafka).toMatchObject({
      brokers: ['a:9092', 'b:9093'],
      tls: true,
      sasl: { mechanism: 'scram-sha-512' },
    });
    expect(config.clickhouse.retentionDays).toBe(30);
  });

  it('names every wrong variable at once', () => {
    expect(
      problemsFor({
        KAFKA_BROKERS: 'not a broker',
        KAFKA_TLS: 'maybe',
        CLICKHOUSE_URL: 'ftp://x',
        CLICKHOUSE_RETENTION_DAYS: '-3',
        LOG_LEVEL: 'loud',
      }),
    ).toEqual(['CLICKHOUSE_RETENTION_DAYS', 'CLICKHOUSE_URL', 'KAFKA_BROKERS', 'KAFKA_TLS', 'LOG_LEVEL']);
  });

  it('points at the missing half of SASL credentials', () => {
    expect(problemsFor({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'svc' })).toEqual([
      'KAFKA_SASL_PASSWORD',
    ]);
  });

  it('the error message lists each variable so a person can fix them all in one go', () => {
    expect(() => loadConfig(schema, connectionEnv, { env: { KAFKA_TLS: 'x', LOG_LEVEL: 'y' } })).toThrow(
      /2 problems[\s\S]*KAFKA_TLS[\s\S]*LOG_LEVEL/,
    );
  });
});

describe('redactConfig', () => {
  it('hides secrets and leaves the original untouched', () => {
    const config = loadConfig(schema, connectionEnv, {
      env: {
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD: 'hunter2',
        CLICKHOUSE_PASSWORD: 'pw',
      },
    });
    const redacted = redactConfig(config, secretPaths);
    expect(JSON.stringify(redacted)).not.toMatch(/hunter2|"pw"/);
    expect(config.kafka.sasl?.password).toBe('hunter2');
  });

  it('says where a config file is not valid JSON without quoting it (the text may hold a password)', () => {
    const text = '{\n  "kafka": { "sasl": { "password": hunter2 } }\n}';
    let error: unknown;
    try {
      parseConfigFile(text, 'floodgate.json');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('floodgate.json');
    expect(message).toContain('not valid JSON');
    expect(message).not.toContain('hunter2');
    expect(String((error as ConfigError).cause ?? '')).not.toContain('hunter2');
    expect(() => parseConfigFile('[1, 2]', 'list.json')).toThrow(/must hold a JSON object/);
    expect(parseConfigFile('{"logging": {"level": "warn"}}', 'ok.json')).toEqual({
      logging: { level: 'warn' },
    });
  });
});
