import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Habit, NETWORKS, rememberIn, USER_AGENTS, withHabits } from './habit-counts.ts';

describe('withHabits', () => {
  it('holds exactly the counts (and order) of counting every value straight into a map, per habit', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom<Habit>(NETWORKS, USER_AGENTS),
            fc.oneof(fc.constantFrom('', 'a', 'b'), fc.string({ maxLength: 2 })),
          ),
          { maxLength: 200 },
        ),
        fc.integer({ min: 1, max: 5 }),
        (values, max) => {
          class Key extends withHabits(class {}, max) {}
          const key = new Key();
          const reference = [new Map<string, number>(), new Map<string, number>()];
          for (const [habit, value] of values) {
            const map = reference[habit] as Map<string, number>;
            expect(
              key.hasHabit(habit, value),
              `has(${habit}, ${JSON.stringify(value)}) before remembering it`,
            ).toBe(map.has(value));
            key.rememberHabit(habit, value);
            rememberIn(map, value, max);
            expect(key.habitSize(NETWORKS)).toBe(reference[NETWORKS]?.size);
            expect(key.habitSize(USER_AGENTS)).toBe(reference[USER_AGENTS]?.size);
          }
          for (const habit of [NETWORKS, USER_AGENTS] as const)
            expect(key.habitEntries(habit)).toEqual([...(reference[habit] as Map<string, number>)]);
          // Restored from its entries (as snapshots do), it goes on exactly as the original.
          const restored = new Key();
          for (const habit of [NETWORKS, USER_AGENTS] as const)
            for (const [value, count] of key.habitEntries(habit)) restored.setHabit(habit, value, count);
          for (const habit of [NETWORKS, USER_AGENTS] as const)
            expect(restored.habitEntries(habit)).toEqual([...(reference[habit] as Map<string, number>)]);
          for (const [habit, value] of values.slice(0, 20)) {
            restored.rememberHabit(habit, value);
            key.rememberHabit(habit, value);
            expect(restored.hasHabit(habit, value)).toBe(key.hasHabit(habit, value));
          }
          for (const habit of [NETWORKS, USER_AGENTS] as const)
            expect(restored.habitEntries(habit)).toEqual(key.habitEntries(habit));
        },
      ),
    );
  });
});
