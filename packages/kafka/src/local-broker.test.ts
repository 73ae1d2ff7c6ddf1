import { describe, expect, it } from 'vitest';
import { newClusterId } from './local-broker.ts';

describe('newClusterId', () => {
  it('never starts with "-", which the storage tool would read as an option', () => {
    // One id in 64 drawn naively starts with '-': 4,000 draws would hit it ~60 times.
    const ids = Array.from({ length: 4_000 }, () => newClusterId());
    expect(ids.filter((id) => id.startsWith('-'))).toEqual([]);
    for (const id of ids.slice(0, 50)) expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(new Set(ids).size, 'ids are random').toBe(ids.length);
  });
});
