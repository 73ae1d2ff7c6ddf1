import { describe, expect, it } from 'vitest';
import { topFunctions } from './profile-summary.ts';

describe('topFunctions', () => {
  it('adds up self samples per function and place, shortens paths, and ranks them', () => {
    const frame = (functionName: string, url: string, lineNumber: number) => ({
      functionName,
      url,
      lineNumber,
    });
    const top = topFunctions({
      nodes: [
        { id: 1, callFrame: frame('(root)', '', -1), hitCount: 0 },
        {
          id: 2,
          callFrame: frame(
            'parse',
            'file:///app/node_modules/.pnpm/kafkajs@2.2.4/node_modules/kafkajs/src/decoder.js',
            9,
          ),
          hitCount: 30,
        },
        {
          id: 3,
          callFrame: frame(
            'parse',
            'file:///app/node_modules/.pnpm/kafkajs@2.2.4/node_modules/kafkajs/src/decoder.js',
            9,
          ),
          hitCount: 20,
        },
        {
          id: 4,
          callFrame: frame('normalizeEvent', 'file:///app/packages/detect/src/normalize.ts', 99),
          hitCount: 40,
        },
        { id: 5, callFrame: frame('', '', 0), hitCount: 10 },
      ],
    });
    expect(top[0]).toEqual({ name: 'parse', where: 'kafkajs/src/decoder.js:10', selfPercent: 50 });
    expect(top[1]).toEqual({
      name: 'normalizeEvent',
      where: 'packages/detect/src/normalize.ts:100',
      selfPercent: 40,
    });
    expect(top[2]?.name).toBe('(anonymous)');
    expect(topFunctions({ nodes: [] })).toEqual([]);
  });
});
