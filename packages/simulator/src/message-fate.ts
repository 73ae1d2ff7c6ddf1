/**
 * What happens to a message after it is sent: delivery outcome and provider error code, whether an
 * OTP is used, whether the recipient replies or opts out. Probabilities live in a `MessageFate`
 * (shared by many messages, never per-message objects); error codes follow a common provider's map.
 */
import type { Prng } from './prng.ts';

export interface MessageFate {
  /** Probability carriers filter the message as spam (status `filtered`). */
  filtered: number;
  /** Probability the provider rejects it (status `failed`). */
  failed: number;
  /** Probability the handset or number is unreachable (status `undelivered`). */
  undelivered: number;
  /** OTPs: probability the code is entered; `undefined` when the sender reports no feedback. */
  conversion: number | undefined;
  /** OTPs: probability a user who did not enter the code asks for another one. */
  resend: number;
  optOut: number;
  /** Everyday replies ("ok", "who is this?"), or suspicious ones when `suspiciousReplies`. */
  reply: number;
  /** Reminder confirmations ("C", "YES"). */
  confirm: number;
  suspiciousReplies: boolean;
  /** Median seconds from delivery to an opt-out: minutes for ordinary traffic. */
  optOutDelayMedianSeconds: number;
}

export function fate(overrides: Partial<MessageFate>): MessageFate {
  return {
    filtered: 0.002,
    failed: 0.005,
    undelivered: 0.02,
    conversion: undefined,
    resend: 0,
    optOut: 0,
    reply: 0.001,
    confirm: 0,
    suspiciousReplies: false,
    optOutDelayMedianSeconds: 240,
    ...overrides,
  };
}

interface CodeTable {
  readonly codes: readonly string[];
  readonly weights: readonly number[];
}

const undeliveredCodes: CodeTable = {
  codes: ['30003', '30005', '30006', '30004', '30008'],
  weights: [45, 20, 15, 8, 12],
};
const failedCodes: CodeTable = {
  codes: ['30008', '21614', '21612', '30001', '21211'],
  weights: [30, 25, 20, 15, 10],
};
const filteredCodes: CodeTable = { codes: ['30007', '30034'], weights: [9, 1] };

export type FinalStatus = 'delivered' | 'undelivered' | 'failed' | 'filtered';

export function drawFinalStatus(rng: Prng, messageFate: MessageFate): FinalStatus {
  const roll = rng.next();
  if (roll < messageFate.filtered) return 'filtered';
  if (roll < messageFate.filtered + messageFate.failed) return 'failed';
  if (roll < messageFate.filtered + messageFate.failed + messageFate.undelivered) return 'undelivered';
  return 'delivered';
}

export function errorCodeFor(rng: Prng, status: FinalStatus): string | undefined {
  switch (status) {
    case 'delivered':
      return undefined;
    case 'undelivered':
      return undeliveredCodes.codes[rng.weightedIndex(undeliveredCodes.weights)];
    case 'failed':
      return failedCodes.codes[rng.weightedIndex(failedCodes.weights)];
    case 'filtered':
      return filteredCodes.codes[rng.weightedIndex(filteredCodes.weights)];
  }
}

/** Provider code for a message to a recipient who opted out earlier. */
export const optedOutRecipientCode = '21610';
