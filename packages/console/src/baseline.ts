/**
 * The baseline band drawn under a traffic chart: for each bucket, the median of the trailing
 * `window` buckets ± 3 scaled MADs (1.4826 × MAD, the normal-consistent spread), which is robust to
 * the few spikes a normal hour has. From `freezeAt` on (the anomaly's start) the band keeps its
 * value at that point, so an attack does not teach the chart that the attack is normal.
 */
import { median, medianAbsoluteDeviation } from 'simple-statistics';

export interface Band {
  low: (number | null)[];
  mid: (number | null)[];
  high: (number | null)[];
}

const MAD_SCALE = 1.4826;

export function robustBand(values: readonly number[], window: number, freezeAt: number | null = null): Band {
  const band: Band = { low: [], mid: [], high: [] };
  const minHistory = Math.max(3, Math.ceil(window / 4));
  let held: [number, number, number] | null = null;
  for (let i = 0; i < values.length; i++) {
    if (freezeAt !== null && i >= freezeAt && held) {
      band.low.push(held[0]);
      band.mid.push(held[1]);
      band.high.push(held[2]);
      continue;
    }
    const history = values.slice(Math.max(0, i - window), i);
    if (history.length < minHistory) {
      band.low.push(null);
      band.mid.push(null);
      band.high.push(null);
      continue;
    }
    const mid = median(history);
    const spread = 3 * MAD_SCALE * medianAbsoluteDeviation(history);
    // A flat history has no spread; √mid (the Poisson noise of a count) keeps the band visible and honest.
    const width = Math.max(spread, Math.sqrt(mid));
    const entry: [number, number, number] = [
      Math.max(0, round2(mid - width)),
      round2(mid),
      round2(mid + width),
    ];
    if (freezeAt !== null && i === freezeAt) held = entry;
    band.low.push(entry[0]);
    band.mid.push(entry[1]);
    band.high.push(entry[2]);
  }
  return band;
}

const round2 = (v: number): number => Math.round(v * 100) / 100;
