/**
 * The one way the pipeline writes to a sink it cannot lose data into: retry with capped, jittered
 * backoff until it succeeds or the consumer is stopping (then the batch is re-delivered, since its
 * offsets were not committed). Also the consumer retry policy that restarts instead of giving up.
 */
import type { ConsumerConfig } from 'kafkajs';
import { backoffDelayMs, sleep } from './backoff.ts';

export interface SinkRetryOptions {
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** True when retrying is pointless (shutdown, revoked partition): the error is rethrown. */
  shouldStop(): boolean;
  /** Keeps the consumer's group membership alive while the sink is down. */
  heartbeat?: () => Promise<void>;
  onFailure(what: string, attempt: number, delayMs: number, error: unknown): void;
  onSuccess?(what: string): void;
}

export async function retrySink<T>(
  what: string,
  action: () => Promise<T>,
  options: SinkRetryOptions,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await action();
      options.onSuccess?.(what);
      return result;
    } catch (error) {
      if (options.shouldStop()) throw error;
      const delayMs = backoffDelayMs(attempt, options.initialBackoffMs, options.maxBackoffMs);
      options.onFailure(what, attempt, delayMs, error);
      await sleep(delayMs);
      await options.heartbeat?.();
    }
  }
}

/** kafkajs retry settings for a consumer that must never stop for good on a failed batch. */
export function restartingConsumerRetry(
  onRestart: (error: unknown) => void,
): NonNullable<ConsumerConfig['retry']> {
  return {
    retries: 10,
    restartOnFailure: async (error) => {
      onRestart(error);
      return true;
    },
  };
}
