/** `pnpm docs:config` — regenerates the configuration reference in README.md from the config schemas. */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withConfigReference } from '@floodgate/cli';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));
const before = readFileSync(readme, 'utf8');
const after = withConfigReference(before);
if (after !== before) writeFileSync(readme, after);
console.log(
  after === before
    ? 'README.md configuration reference is up to date'
    : 'README.md configuration reference updated',
);
