import { normalizeEvent } from '@floodgate/detect';
import { exampleEvent, exampleEvents } from '@floodgate/schema';
import { describe, expect, it } from 'vitest';
import { RAW_COLUMNS, rawColumnsOf, rawRowOf } from './raw-rows.ts';

describe('raw rows', () => {
  it('write exactly the columns RAW_COLUMNS names for their table, in its order, for every event type', () => {
    const tables = new Set<string>();
    for (const type of Object.keys(exampleEvents) as (keyof typeof exampleEvents)[]) {
      const event = exampleEvent(type);
      const raw = rawRowOf(event, normalizeEvent(event, { hmacKey: 'raw-rows-test-key' }), 'full');
      tables.add(raw.table);
      expect(Object.keys(raw.row), raw.table).toEqual(RAW_COLUMNS[raw.table]);
    }
    expect([...tables].sort()).toEqual(Object.keys(RAW_COLUMNS).sort());
  });

  it('name columns for raw tables only (other tables insert as JSONEachRow)', () => {
    expect(rawColumnsOf('messages_status')).toBe(RAW_COLUMNS.messages_status);
    expect(rawColumnsOf('api_keys')).toBeUndefined();
    expect(rawColumnsOf('toString')).toBeUndefined();
  });
});
