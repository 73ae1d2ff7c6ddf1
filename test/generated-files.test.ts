import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedFiles } from '../scripts/generate-json-schemas.ts';

describe('generated files', () => {
  it('infra/schemas matches the zod schemas (run `pnpm schemas` after changing packages/schema)', () => {
    for (const [path, expected] of generatedFiles()) {
      let actual = '';
      try {
        actual = readFileSync(path, 'utf8');
      } catch {
        actual = '<missing>';
      }
      expect(actual, `${path} is stale`).toBe(expected);
    }
  });
});
