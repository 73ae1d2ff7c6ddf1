/**
 * Durations as people write them in rule files ("90s", "15m", "1h30m", "250ms", "2d"), parsed
 * once at load into milliseconds so the rest of the alerter only ever sees numbers.
 */
const unitMs: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const whole = /^(?:\d+(?:ms|s|m|h|d))+$/;
const part = /(\d+)(ms|s|m|h|d)/g;

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  if (!whole.test(trimmed)) return undefined;
  let total = 0;
  for (const match of trimmed.matchAll(part)) total += Number(match[1]) * (unitMs[match[2] as string] ?? 0);
  return total;
}

/** 5_400_000 → "1h30m": for messages and payloads. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let text = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const size = unitMs[unit] as number;
    const count = Math.floor(rest / size);
    if (count > 0) {
      text += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return text;
}
