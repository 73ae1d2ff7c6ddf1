import { describe, expect, it } from 'vitest';
import { isReplayedCopy } from './checkpointed-stage.ts';

describe('isReplayedCopy', () => {
  it('skips records whose source offset was already counted from the same source partition', () => {
    const sources = new Map<string, bigint>();
    const seen = (header: string | undefined) => isReplayedCopy(sources, header);
    expect(seen('messages.outbound/0@10')).toBe(false);
    expect(seen('messages.outbound/0@11')).toBe(false);
    expect(seen('messages.outbound/1@5')).toBe(false);
    // Ingest crashed after forwarding offsets 10-11 and before committing: it forwards them again.
    expect(seen('messages.outbound/0@10')).toBe(true);
    expect(seen('messages.outbound/0@11')).toBe(true);
    expect(seen('messages.outbound/0@12')).toBe(false);
    expect(seen('messages.status/0@11')).toBe(false);
    expect(sources.get('messages.outbound/0')).toBe(12n);
  });

  it('counts records without a usable header, and starts over when a source was reset far back', () => {
    const sources = new Map<string, bigint>([['t/0', 5_000_000n]]);
    expect(isReplayedCopy(sources, undefined)).toBe(false);
    expect(isReplayedCopy(sources, 'garbage')).toBe(false);
    expect(isReplayedCopy(sources, 't/0@x')).toBe(false);
    expect(isReplayedCopy(sources, Buffer.from('t/0@4999999'))).toBe(true);
    expect(isReplayedCopy(sources, 't/0@3')).toBe(false);
    expect(sources.get('t/0')).toBe(3n);
    expect(isReplayedCopy(sources, 't/0@3')).toBe(true);
  });
});
