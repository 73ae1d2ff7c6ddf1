import { parseForwardedRecords } from '@floodgate/detect';
import { exampleEvents } from '@floodgate/schema';
import { describe, expect, it } from 'vitest';
import { type PrepareOptions, prepareRecord } from './prepare.ts';

const options: PrepareOptions = {
  normalize: { hmacKey: 'prepare-test-hmac-key' },
  bodyStorage: 'masked',
};
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('prepareRecord', () => {
  it("gives a valid record's raw row and the forwarded value naming its source", () => {
    const prepared = prepareRecord(
      bytes(exampleEvents['message.outbound']),
      'traffic.outbound/2@41',
      options,
    );
    if (prepared.kind !== 'ok') throw new Error(`expected ok, got ${prepared.kind}`);
    expect(prepared.table).toBe('messages_outbound');
    expect(prepared.key).toBe(exampleEvents['message.outbound'].accountId);
    expect(prepared.row['event_id']).toBe(exampleEvents['message.outbound'].eventId);
    // The recipient is stored as its keyed hash, never as the number.
    expect(JSON.stringify(prepared.row)).not.toContain(exampleEvents['message.outbound'].to.slice(1));
    const [forwarded, ...more] = parseForwardedRecords(prepared.value);
    expect(more).toHaveLength(0);
    expect(forwarded?.source).toBe('traffic.outbound/2@41');
    expect(forwarded?.event).toMatchObject({
      kind: 'outbound',
      eventId: exampleEvents['message.outbound'].eventId,
    });
  });

  it('gives the schema problems of an invalid record, and of a missing value', () => {
    const prepared = prepareRecord(bytes({ ...exampleEvents['message.outbound'], to: '0044' }), 's', options);
    expect(prepared).toMatchObject({ kind: 'invalid', problems: [{ path: 'to' }] });
    expect(prepareRecord(null, 's', options)).toMatchObject({
      kind: 'invalid',
      problems: [{ code: 'empty' }],
    });
  });

  it('rejects an event dated further ahead of the clock than allowed, saying by how much', () => {
    const now = Date.parse(exampleEvents['message.outbound'].eventTime);
    const ahead = (ms: number) =>
      prepareRecord(
        bytes({ ...exampleEvents['message.outbound'], eventTime: now + ms }),
        's',
        { ...options, maxFutureMs: 30_000 },
        now,
      );
    expect(ahead(30_000).kind).toBe('ok');
    expect(ahead(-86_400_000).kind).toBe('ok');
    expect(ahead(90_000)).toMatchObject({
      kind: 'invalid',
      problems: [{ path: 'eventTime', code: 'in_future', message: expect.stringContaining('90 s ahead') }],
    });
    // Without a limit (replays of files, tests) any valid time passes.
    expect(
      prepareRecord(
        bytes({ ...exampleEvents['message.outbound'], eventTime: now + 86_400_000 }),
        's',
        options,
        now,
      ).kind,
    ).toBe('ok');
  });

  it('reports a normalisation that throws as failed, with the error, instead of throwing', () => {
    const broken: PrepareOptions = {
      ...options,
      normalize: {
        ...options.normalize,
        errorCodeCategories: new Proxy(
          {},
          {
            get() {
              throw new TypeError('category table unreadable');
            },
          },
        ),
      },
    };
    const failedStatus = { ...exampleEvents['message.status'], status: 'failed', errorCode: '30003' };
    const prepared = prepareRecord(bytes(failedStatus), 's', broken);
    expect(prepared).toMatchObject({ kind: 'failed', error: 'TypeError: category table unreadable' });
    expect(prepared.kind === 'failed' && prepared.stack).toContain('category table unreadable');
  });
});
