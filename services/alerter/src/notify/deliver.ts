/**
 * One notification's delivery: POST with a per-attempt timeout; network errors, 5xx and 429 are
 * retried with capped exponential backoff and full jitter (a Retry-After is honoured); other 4xx
 * are final. The reason of a failure never contains the URL or a secret: only the receiver's name,
 * the status and the start of the response body.
 */
import { backoffDelayMs } from '@floodgate/kafka';
import type { NotificationAction } from '../incidents/incident.ts';
import type { Receiver } from '../rules/load.ts';
import { prepareRequest } from './render.ts';

export interface DeliveryPolicy {
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export interface DeliveryResult {
  status: 'delivered' | 'failed';
  attempts: number;
  reason: string;
}

export interface DeliveryRequest {
  id: string;
  action: NotificationAction;
  payload: string;
}

export class DeliveryAborted extends Error {
  readonly code = 'ALERT_DELIVERY_ABORTED' as const;
  constructor() {
    super('delivery aborted');
    this.name = 'DeliveryAborted';
  }
}

/** Seconds or an HTTP date, as ms from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if ((error as Error).name === 'TimeoutError') return 'timeout';
  return `network error: ${cause?.code ?? (error as Error).name ?? 'unknown'}`;
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new DeliveryAborted());
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new DeliveryAborted());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export async function deliver(
  receiver: Receiver,
  request: DeliveryRequest,
  policy: DeliveryPolicy,
  signal: AbortSignal,
  onRetry?: (attempt: number, delayMs: number, reason: string) => void,
  /** Limits requests in flight; held for one attempt, never across a backoff. */
  gate?: { acquire(): Promise<void>; release(): void },
): Promise<DeliveryResult> {
  let reason = '';
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) throw new DeliveryAborted();
    // Signed and stamped per attempt: a retry an hour later must not carry a stale timestamp.
    const prepared = prepareRequest(receiver, request.payload, request.id, request.action, Date.now());
    let retryable: boolean;
    let serverDelayMs: number | undefined;
    await gate?.acquire();
    try {
      const response = await fetch(prepared.url, {
        method: 'POST',
        headers: prepared.headers,
        body: prepared.body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(receiver.timeoutMs)]),
        redirect: 'error',
      });
      const text = (await response.text().catch(() => '')).slice(0, 300);
      if (response.ok) return { status: 'delivered', attempts: attempt, reason: '' };
      reason = `HTTP ${response.status}${text ? `: ${text}` : ''}`;
      retryable = response.status >= 500 || response.status === 429 || response.status === 408;
      serverDelayMs = retryAfterMs(response.headers.get('retry-after'), Date.now());
    } catch (error) {
      if (signal.aborted) throw new DeliveryAborted();
      reason = networkReason(error);
      retryable = true;
    } finally {
      gate?.release();
    }
    if (!retryable) return { status: 'failed', attempts: attempt, reason };
    if (attempt >= policy.maxAttempts)
      return {
        status: 'failed',
        attempts: attempt,
        reason: `gave up after ${attempt} attempts; last: ${reason}`,
      };
    const backoff = backoffDelayMs(attempt - 1, policy.initialBackoffMs, policy.maxBackoffMs);
    const delayMs =
      serverDelayMs === undefined
        ? backoff
        : Math.min(Math.max(serverDelayMs, backoff), 10 * policy.maxBackoffMs);
    onRetry?.(attempt, delayMs, reason);
    await wait(delayMs, signal);
  }
}
