import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { maskPhone } from './mask.ts';
import { createRegistry } from './metrics.ts';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
  };
}

describe('createLogger', () => {
  it('writes structured JSON with the service name and a level label', () => {
    const out = capture();
    createLogger({ service: 'ingest', destination: out.stream }).info({ batch: 3 }, 'stored');
    expect(out.lines()[0]).toMatchObject({ service: 'ingest', level: 'info', batch: 3, msg: 'stored' });
  });

  it('never writes secrets, bodies or phone numbers, even nested', () => {
    const out = capture();
    createLogger({ service: 'ingest', destination: out.stream }).warn(
      {
        password: 'hunter2',
        event: { body: 'Your code is 123456', to: '+447400123456', from: '+14155550100' },
        receiver: { config: { routingKey: 'R0UT1NG' } },
      },
      'bad event',
    );
    const text = JSON.stringify(out.lines());
    for (const secret of ['hunter2', '123456', '+447400123456', '+14155550100', 'R0UT1NG']) {
      expect(text, `log line leaked ${secret}`).not.toContain(secret);
    }
  });
});

describe('maskPhone', () => {
  it('keeps the country prefix and last digits only', () => {
    expect(maskPhone('+447400123456')).toBe('+4474•••••456');
    expect(maskPhone('+447400123456')).not.toContain('0123');
  });
});

describe('createRegistry', () => {
  it('exposes default process metrics labelled with the service', async () => {
    const text = await createRegistry('detector').metrics();
    expect(text).toMatch(/floodgate_process_cpu_user_seconds_total\{service="detector"\}/);
  });
});
