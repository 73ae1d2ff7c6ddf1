/**
 * Field helpers for config schemas: values arrive as strings from the environment, so lists, booleans
 * and numbers are coerced here, once, with messages that say the expected form.
 */
import { z } from 'zod';

export const booleanFromEnv = z.union([
  z.boolean(),
  z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => ['true', 'false', '1', '0', 'yes', 'no'].includes(v), 'expected true or false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes'),
]);

export const listFromEnv = z.union([
  z.array(z.string().min(1)),
  z.string().transform((v) =>
    v
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  ),
]);

export function intFromEnv(min: number, max: number): z.ZodType<number, unknown> {
  return z.coerce
    .number({ error: `expected an integer between ${min} and ${max}` })
    .int(`expected an integer between ${min} and ${max}`)
    .min(min, `expected an integer between ${min} and ${max}`)
    .max(max, `expected an integer between ${min} and ${max}`) as unknown as z.ZodType<number, unknown>;
}

export const hostPort = z
  .string()
  .regex(
    /^[A-Za-z0-9._-]+:[0-9]{1,5}$|^\[[0-9a-fA-F:]+\]:[0-9]{1,5}$/,
    'expected host:port, e.g. 127.0.0.1:9092',
  );
