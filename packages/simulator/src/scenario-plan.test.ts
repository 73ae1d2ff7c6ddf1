import { describe, expect, it } from 'vitest';
import { defaultScenarioPlan } from './scenario-plan.ts';
import { scenarioNames } from './scenarios/scenario.ts';
import { hourMs, testPeriodStartMs } from './test-helpers.ts';

describe('defaultScenarioPlan', () => {
  it('places every scenario once inside a two-day period, in order, with gaps', () => {
    const plan = defaultScenarioPlan(testPeriodStartMs, 48 * hourMs);
    expect(plan.map((entry) => entry.name)).toEqual([...scenarioNames]);
    for (const [index, entry] of plan.entries()) {
      expect(entry.atMs).toBeGreaterThan(testPeriodStartMs);
      expect(entry.atMs).toBeLessThan(testPeriodStartMs + 48 * hourMs);
      if (index > 0)
        expect(entry.atMs - plan[index - 1]!.atMs, `gap before ${entry.name}`).toBeGreaterThan(2 * hourMs);
    }
  });

  it('never starts on the hour', () => {
    const plan = defaultScenarioPlan(testPeriodStartMs, 48 * hourMs);
    expect(plan.filter((entry) => (entry.atMs - testPeriodStartMs) % hourMs === 0)).toEqual([]);
    expect(
      plan.filter((entry) => entry.atMs % 60_000 !== 0).length,
      'most start off the minute',
    ).toBeGreaterThan(4);
  });

  it('leaves out the legit blast when the period has no day of history for it', () => {
    const names = defaultScenarioPlan(testPeriodStartMs, 12 * hourMs).map((entry) => entry.name);
    expect(names).not.toContain('legit_blast');
    expect(names.length).toBe(scenarioNames.length - 1);
  });
});
