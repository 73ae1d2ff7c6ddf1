/**
 * The default scenario plan: every scenario once, spread over the period with benign stretches in
 * between, at uneven offsets (never on the hour) so detectors cannot key on round times. A legit
 * blast needs a day of history before it, so shorter periods leave it out.
 */
import type { ScenarioPlanEntry } from './scenarios/registry.ts';

const minuteMs = 60_000;
const dayMs = 86_400_000;

/** Where each scenario starts, as a fraction of the period, plus an uneven offset. */
const placements: ReadonlyArray<{ name: ScenarioPlanEntry['name']; fraction: number; offsetMs: number }> = [
  { name: 'account_takeover', fraction: 0.2, offsetMs: 7 * minuteMs + 13_000 },
  { name: 'sms_pumping', fraction: 0.31, offsetMs: 11 * minuteMs + 47_000 },
  { name: 'opt_out_storm', fraction: 0.4, offsetMs: 3 * minuteMs + 29_000 },
  { name: 'low_and_slow', fraction: 0.48, offsetMs: 13 * minuteMs + 51_000 },
  { name: 'legit_blast', fraction: 0.64, offsetMs: 17 * minuteMs },
  { name: 'cross_account_campaign', fraction: 0.77, offsetMs: 5 * minuteMs + 37_000 },
  { name: 'third_party_misuse', fraction: 0.88, offsetMs: 9 * minuteMs + 8_000 },
];

export function defaultScenarioPlan(startMs: number, durationMs: number): ScenarioPlanEntry[] {
  const plan: ScenarioPlanEntry[] = [];
  for (const { name, fraction, offsetMs } of placements) {
    let atMs = startMs + Math.floor(durationMs * fraction) + offsetMs;
    if (name === 'legit_blast') {
      // An earlier blast of the same account must be in the data: at least one day (one period) back.
      atMs = Math.max(atMs, startMs + dayMs + 2 * 3_600_000 + offsetMs);
      if (atMs + 45 * minuteMs > startMs + durationMs) continue;
    }
    if (atMs >= startMs + durationMs) continue;
    plan.push({ name, atMs } as ScenarioPlanEntry);
  }
  return plan;
}
