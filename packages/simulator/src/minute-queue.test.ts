import type { FloodgateEvent } from '@floodgate/schema';
import { describe, expect, it } from 'vitest';
import { MinuteQueue, ScheduleInPastError } from './minute-queue.ts';

const startMs = Date.UTC(2026, 0, 1);

function audit(eventId: string, eventTime: number): FloodgateEvent {
  return {
    type: 'account.audit',
    schemaVersion: 1,
    eventId,
    eventTime,
    accountId: 'a',
    actor: 'x',
    action: 'login',
  };
}

describe('MinuteQueue', () => {
  it('returns a minute in time order and keeps insertion order for equal times', () => {
    const queue = new MinuteQueue(startMs, startMs + 10 * 60_000);
    queue.push(audit('late', startMs + 59_999));
    queue.push(audit('tie-1', startMs + 500));
    queue.push(audit('early', startMs + 1));
    queue.push(audit('tie-2', startMs + 500));
    queue.push(audit('next-minute', startMs + 60_000));
    expect(queue.take(0).map((event) => event.eventId)).toEqual(['early', 'tie-1', 'tie-2', 'late']);
    expect(queue.pending, 'the next minute stays queued').toBe(1);
    expect(queue.take(1).map((event) => event.eventId)).toEqual(['next-minute']);
  });

  it('drops events outside the period', () => {
    const queue = new MinuteQueue(startMs, startMs + 60_000);
    queue.push(audit('before', startMs - 1));
    queue.push(audit('after', startMs + 60_000));
    expect(queue.pending).toBe(0);
  });

  it('refuses to schedule into a minute that was already released', () => {
    const queue = new MinuteQueue(startMs, startMs + 10 * 60_000);
    queue.take(0);
    queue.take(1);
    expect(() => queue.push(audit('past', startMs + 90_000))).toThrow(ScheduleInPastError);
  });
});
