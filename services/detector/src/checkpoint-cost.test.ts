import { describe, expect, it } from 'vitest';
import {
  CHECKPOINT_MAX_SHARE,
  checkpointPause,
  decodeState,
  encodeStateLines,
  linesOf,
} from './checkpointed-stage.ts';

describe('checkpointPause', () => {
  it('keeps the configured interval while checkpoints are cheap', () => {
    expect(checkpointPause(10_000, 0)).toBe(10_000);
    expect(checkpointPause(10_000, 999)).toBe(10_000);
  });

  it('stretches the interval so serialising stays within its share of the time', () => {
    // A 5 s checkpoint (17,000 accounts × 10 keys on one partition) is followed by ≥ 50 s of work.
    const pause = checkpointPause(10_000, 5_000);
    expect(pause).toBe(50_000);
    expect(5_000 / pause).toBeLessThanOrEqual(CHECKPOINT_MAX_SHARE);
  });

  it('divides the share among the partitions that share the thread', () => {
    // Six partitions each taking 5 s: each waits 300 s, so together they serialise 30 s in 300 s.
    const pause = checkpointPause(10_000, 5_000, 6);
    expect(pause).toBe(300_000);
    expect((6 * 5_000) / pause).toBeLessThanOrEqual(CHECKPOINT_MAX_SHARE);
  });
});

describe('stored checkpoint state', () => {
  it('round-trips lines compressed in chunks, much smaller than the JSON of a sparse state', async () => {
    // ~3 MiB of lines: several 1 MiB chunks reach the compressor.
    const lines = Array.from({ length: 20_000 }, (_, i) =>
      JSON.stringify({
        a: {
          accountId: `acct_${i}`,
          rate: { fine: { head: 179566052, counts: new Array(30).fill(0) }, hours: new Array(48).fill(0) },
        },
      }),
    );
    const text = lines.map((line) => `${line}\n`).join('');
    expect(text.length).toBeGreaterThan(3 * 2 ** 20);
    const { stored, blockingMs } = await encodeStateLines(lines);
    expect(stored.startsWith('zstd:')).toBe(true);
    expect(stored.length).toBeLessThan(text.length / 10);
    expect(blockingMs).toBeGreaterThan(0);
    const decoded = await decodeState(stored);
    expect(decoded).toBe(text);
    expect([...linesOf(decoded)]).toEqual(lines);
  });

  it('splits stored text into its lines, with or without a final newline', () => {
    expect([...linesOf('a\nb\n')]).toEqual(['a', 'b']);
    expect([...linesOf('{"version":2}')]).toEqual(['{"version":2}']);
    expect([...linesOf('')]).toEqual([]);
  });

  it('restores a state stored as plain JSON by an earlier version', async () => {
    expect(await decodeState('{"version":3}')).toBe('{"version":3}');
  });
});
