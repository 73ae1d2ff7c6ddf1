/** JSON Schema documents generated from the zod schemas, for producers in other languages. */
import { z } from 'zod';
import {
  accountAuditSchema,
  apiKeyInventorySchema,
  conversionFeedbackSchema,
  deliveryStatusSchema,
  eventSchema,
  inboundMessageSchema,
  outboundMessageSchema,
} from './events.ts';

const documents = {
  'event.v1': eventSchema,
  'message.outbound.v1': outboundMessageSchema,
  'message.inbound.v1': inboundMessageSchema,
  'message.status.v1': deliveryStatusSchema,
  'message.feedback.v1': conversionFeedbackSchema,
  'account.audit.v1': accountAuditSchema,
  'api-key-inventory.v1': apiKeyInventorySchema,
} as const;

/** File name (without .json) → JSON Schema (draft 2020-12) of what producers may send. */
export function jsonSchemas(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(documents)) {
    out[name] = {
      $id: `https://floodgate.dev/schemas/${name}.json`,
      ...z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }),
    };
  }
  return out;
}
