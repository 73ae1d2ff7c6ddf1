/**
 * How often a key used each value of its habits (source networks, user agents), keeping at most
 * `max` values per habit: a new value evicts the least used. The per-event case is "the same value
 * as last time", so repeats of the last value are counted aside and folded into the map only before
 * anything reads counts (a new value's eviction, iteration): same counts, no map write per event.
 *
 * The habits' fields live on the key's own object (a mixin, see withHabits), not in an object per
 * habit: two habit objects and the two fields pointing at them cost an API key ~128 bytes, their
 * six fields here 48.
 */

import { intern } from './intern.ts';

/** Counts `value` in `map`, evicting the least used value (first of equals) past `max`. */
export function rememberIn(map: Map<string, number>, value: string, max: number): void {
  if (!value) return;
  const seen = map.get(value);
  if (seen !== undefined) {
    map.set(value, seen + 1);
    return;
  }
  if (map.size >= max) {
    // Forget the least used, so one-off values do not crowd out the key's real habits.
    let rarest = '';
    let rarestCount = Infinity;
    for (const [k, c] of map) {
      if (c < rarestCount) {
        rarest = k;
        rarestCount = c;
      }
    }
    map.delete(rarest);
  }
  map.set(value, 1);
}

/** The habits a key keeps. */
export const NETWORKS = 0;
export const USER_AGENTS = 1;
export type Habit = typeof NETWORKS | typeof USER_AGENTS;

// biome-ignore lint/suspicious/noExplicitAny: a mixin's base constructor takes any arguments.
type AbstractConstructor = abstract new (...args: any[]) => object;

/**
 * `Base` with two habits. Per habit: the map, created when a second distinct value arrives (most
 * keys keep one network and one user agent for life, and an empty Map with its table costs ~150
 * bytes); the value last remembered; and its uncounted repeats. While there is no map the last value
 * is the only one and its repeats its whole count; with a map the last value is in it and its
 * repeats wait to be added. The fields and the two helpers are public only because a mixin's
 * declaration cannot have private members; read and write through the methods. (Not `#`: see
 * RateBaseline.)
 */
export function withHabits<B extends AbstractConstructor>(Base: B, max: number) {
  abstract class WithHabits extends Base {
    habitCounts0: Map<string, number> | null = null;
    habitLast0 = '';
    habitRepeats0 = 0;
    habitCounts1: Map<string, number> | null = null;
    habitLast1 = '';
    habitRepeats1 = 0;

    habitSize(habit: Habit): number {
      const counts = habit === NETWORKS ? this.habitCounts0 : this.habitCounts1;
      if (counts) return counts.size;
      return (habit === NETWORKS ? this.habitLast0 : this.habitLast1) ? 1 : 0;
    }

    hasHabit(habit: Habit, value: string): boolean {
      const last = habit === NETWORKS ? this.habitLast0 : this.habitLast1;
      if (value === last && value !== '') return true;
      return (habit === NETWORKS ? this.habitCounts0 : this.habitCounts1)?.has(value) ?? false;
    }

    /** Whether any value of the habit passes `test` (reads the map without folding the repeats in). */
    someHabit(habit: Habit, test: (value: string) => boolean): boolean {
      const last = habit === NETWORKS ? this.habitLast0 : this.habitLast1;
      if (last !== '' && test(last)) return true;
      const counts = habit === NETWORKS ? this.habitCounts0 : this.habitCounts1;
      if (counts) for (const value of counts.keys()) if (test(value)) return true;
      return false;
    }

    rememberHabit(habit: Habit, event: string): void {
      if (!event) return;
      const last = habit === NETWORKS ? this.habitLast0 : this.habitLast1;
      if (event === last) {
        if (habit === NETWORKS) this.habitRepeats0++;
        else this.habitRepeats1++;
        return;
      }
      // A changed value is kept: keep the shared copy, not the event's.
      const value = intern(event);
      if (last === '' && (habit === NETWORKS ? this.habitCounts0 : this.habitCounts1) === null) {
        this.setLast(habit, value, 1);
        return;
      }
      rememberIn(this.folded(habit), value, max);
      this.setLast(habit, value, 0);
    }

    /** Sets a count directly (restore): a single value stays inline, as it was before the snapshot. */
    setHabit(habit: Habit, value: string, count: number): void {
      const shared = intern(value);
      const last = habit === NETWORKS ? this.habitLast0 : this.habitLast1;
      if (
        (habit === NETWORKS ? this.habitCounts0 : this.habitCounts1) === null &&
        (last === '' || last === shared)
      ) {
        this.setLast(habit, shared, count);
        return;
      }
      const counts = this.folded(habit);
      this.setLast(habit, '', 0);
      counts.set(shared, count);
    }

    /** Values with their counts; reading does not create the map (snapshots iterate every key). */
    habitEntries(habit: Habit): [string, number][] {
      if ((habit === NETWORKS ? this.habitCounts0 : this.habitCounts1) === null) {
        const last = habit === NETWORKS ? this.habitLast0 : this.habitLast1;
        return last ? [[last, habit === NETWORKS ? this.habitRepeats0 : this.habitRepeats1]] : [];
      }
      return [...this.folded(habit)];
    }

    setLast(habit: Habit, value: string, repeats: number): void {
      if (habit === NETWORKS) {
        this.habitLast0 = value;
        this.habitRepeats0 = repeats;
      } else {
        this.habitLast1 = value;
        this.habitRepeats1 = repeats;
      }
    }

    /** The habit's map with every count folded in (created on first need). */
    folded(habit: Habit): Map<string, number> {
      let counts = habit === NETWORKS ? this.habitCounts0 : this.habitCounts1;
      const last = habit === NETWORKS ? this.habitLast0 : this.habitLast1;
      const repeats = habit === NETWORKS ? this.habitRepeats0 : this.habitRepeats1;
      if (counts === null) {
        counts = new Map();
        if (last) counts.set(last, repeats);
        if (habit === NETWORKS) this.habitCounts0 = counts;
        else this.habitCounts1 = counts;
      } else if (repeats > 0) {
        counts.set(last, (counts.get(last) as number) + repeats);
      }
      this.setLast(habit, last, 0);
      return counts;
    }
  }
  return WithHabits;
}
