/**
 * Time-ordered pending events as a calendar queue with one bucket per simulated minute. Generation
 * runs minute by minute and may schedule follow-ups (statuses, replies) into later minutes, never
 * earlier ones; taking a minute's bucket sorts it stably, so ties keep generation order.
 */
import type { FloodgateEvent } from '@floodgate/schema';

export class ScheduleInPastError extends Error {
  readonly code = 'schedule_in_past';
}

const minuteMs = 60_000;

export class MinuteQueue {
  readonly #startMs: number;
  readonly #endMs: number;
  readonly #buckets = new Map<number, FloodgateEvent[]>();
  /** Minutes before this one have been taken; scheduling into them would break time order. */
  #openMinute = 0;
  #pending = 0;

  constructor(startMs: number, endMs: number) {
    this.#startMs = startMs;
    this.#endMs = endMs;
  }

  /** Queues an event; events outside the period are dropped (the window is cut at both ends). */
  push(event: FloodgateEvent): void {
    const time = event.eventTime;
    if (time >= this.#endMs || time < this.#startMs) return;
    const minute = Math.floor((time - this.#startMs) / minuteMs);
    if (minute < this.#openMinute) {
      throw new ScheduleInPastError(`event at ${time} is before the open minute ${this.#openMinute}`);
    }
    let bucket = this.#buckets.get(minute);
    if (bucket === undefined) {
      bucket = [];
      this.#buckets.set(minute, bucket);
    }
    bucket.push(event);
    this.#pending++;
  }

  /** Removes and returns minute `minute`'s events in time order; later minutes stay queued. */
  take(minute: number): FloodgateEvent[] {
    const bucket = this.#buckets.get(minute) ?? [];
    this.#buckets.delete(minute);
    this.#openMinute = minute + 1;
    this.#pending -= bucket.length;
    return sortStable(bucket, this.#startMs + minute * minuteMs);
  }

  get pending(): number {
    return this.#pending;
  }
}

const indexSlots = 1 << 20;

/**
 * Sorts one minute's events by time, equal times in insertion (generation) order. Packs the offset
 * within the minute and the index into one number so a typed-array sort (no comparator calls) does
 * the work; an unusually crowded minute falls back to the stable comparator sort.
 */
function sortStable(bucket: FloodgateEvent[], minuteStartMs: number): FloodgateEvent[] {
  const count = bucket.length;
  if (count >= indexSlots) return bucket.sort((left, right) => left.eventTime - right.eventTime);
  const keys = new Float64Array(count);
  for (let index = 0; index < count; index++) {
    keys[index] = ((bucket[index] as FloodgateEvent).eventTime - minuteStartMs) * indexSlots + index;
  }
  keys.sort();
  const sorted = new Array<FloodgateEvent>(count);
  for (let position = 0; position < count; position++) {
    sorted[position] = bucket[(keys[position] as number) % indexSlots] as FloodgateEvent;
  }
  return sorted;
}
