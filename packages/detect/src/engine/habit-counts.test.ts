import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HabitCounts, rememberIn } from './habit-counts.ts';

describe('HabitCounts', () => {
  it('holds exactly the counts (and order) of counting every value straight into a map', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom('', 'a', 'b'), fc.string({ maxLength: 2 })), { maxLength: 200 }),
        fc.integer({ min: 1, max: 5 }),
        (values, max) => {
          const habits = new HabitCounts(max);
          const reference = new Map<string, number>();
          for (const value of values) {
            expect(habits.has(value), `has(${JSON.stringify(value)}) before remembering it`).toBe(
              reference.has(value),
            );
            habits.remember(value);
            rememberIn(reference, value, max);
            expect(habits.size).toBe(reference.size);
          }
          expect([...habits]).toEqual([...reference]);
          // Restored from its entries (as snapshots do), it goes on exactly as the original.
          const restored = new HabitCounts(max);
          for (const [value, count] of habits) restored.set(value, count);
          expect([...restored]).toEqual([...reference]);
          for (const value of values.slice(0, 20)) {
            restored.remember(value);
            habits.remember(value);
            expect(restored.has(value)).toBe(habits.has(value));
          }
          expect([...restored]).toEqual([...habits]);
        },
      ),
    );
  });
});
