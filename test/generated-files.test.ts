import { readFileSync } from 'node:fs';
import { referenceSections, withConfigReference } from '@floodgate/cli';
import { undocumentedVariables } from '@floodgate/config';
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

  it('the README configuration reference matches the config schemas (run `pnpm docs:config`)', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(withConfigReference(readme) === readme, 'README.md configuration reference is stale').toBe(true);
  });

  it('every environment variable a service reads is documented in its schema', () => {
    expect(undocumentedVariables(referenceSections)).toEqual([]);
  });
});
