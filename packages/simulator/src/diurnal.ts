/**
 * Daily rhythm of traffic in the recipients' local time, per account use: OTPs follow people's
 * waking hours into the evening, notifications follow business hours, marketing respects quiet
 * hours. Each curve is a 1440-entry table (one value per local minute) normalized to mean 1.
 */
import type { AccountUse } from './brands.ts';

/** Relative volume at each local hour 0..23 (values are interpolated between hour midpoints). */
const hourlyShapes: Readonly<Record<AccountUse, readonly number[]>> = {
  otp: [
    0.16, 0.1, 0.07, 0.06, 0.07, 0.13, 0.32, 0.7, 1.1, 1.3, 1.4, 1.45, 1.5, 1.45, 1.4, 1.4, 1.45, 1.5, 1.6,
    1.65, 1.6, 1.3, 0.9, 0.45,
  ],
  notifications: [
    0.04, 0.02, 0.02, 0.02, 0.03, 0.08, 0.3, 0.9, 1.7, 1.9, 1.9, 1.8, 1.6, 1.7, 1.8, 1.7, 1.6, 1.4, 1.1, 0.8,
    0.6, 0.4, 0.2, 0.08,
  ],
  marketing: [
    0.01, 0.005, 0.005, 0.005, 0.005, 0.01, 0.05, 0.3, 0.9, 1.6, 2, 2.1, 2, 1.7, 1.6, 1.6, 1.8, 2.1, 2.2, 1.9,
    1.3, 0.5, 0.1, 0.03,
  ],
  mixed: [
    0.1, 0.06, 0.04, 0.04, 0.05, 0.1, 0.28, 0.7, 1.2, 1.45, 1.55, 1.6, 1.6, 1.5, 1.45, 1.45, 1.55, 1.65, 1.7,
    1.65, 1.45, 1.05, 0.6, 0.28,
  ],
};

function buildTable(hourly: readonly number[]): Float64Array {
  const table = new Float64Array(1440);
  let total = 0;
  for (let minute = 0; minute < 1440; minute++) {
    // Hour h's value sits at h:30; interpolate linearly to the neighbouring hour, wrapping at midnight.
    const position = (minute - 30 + 1440) / 60;
    const lowerHour = Math.floor(position) % 24;
    const fraction = position - Math.floor(position);
    const value =
      (hourly[lowerHour] as number) * (1 - fraction) + (hourly[(lowerHour + 1) % 24] as number) * fraction;
    table[minute] = value;
    total += value;
  }
  const mean = total / 1440;
  for (let minute = 0; minute < 1440; minute++) table[minute] = (table[minute] as number) / mean;
  return table;
}

const tables: Readonly<Record<AccountUse, Float64Array>> = {
  otp: buildTable(hourlyShapes.otp),
  notifications: buildTable(hourlyShapes.notifications),
  marketing: buildTable(hourlyShapes.marketing),
  mixed: buildTable(hourlyShapes.mixed),
};

/** Local minute of day (0..1439) for a UTC time and an offset in minutes. */
export function localMinuteOfDay(timeMs: number, utcOffsetMinutes: number): number {
  const minutes = Math.floor(timeMs / 60_000) + utcOffsetMinutes;
  return ((minutes % 1440) + 1440) % 1440;
}

/** Local weekday, 0 = Sunday (1970-01-01 was a Thursday). */
export function localWeekday(timeMs: number, utcOffsetMinutes: number): number {
  const days = Math.floor((timeMs + utcOffsetMinutes * 60_000) / 86_400_000);
  return (((days + 4) % 7) + 7) % 7;
}

export function diurnalFactor(use: AccountUse, localMinute: number): number {
  return tables[use][localMinute] as number;
}
