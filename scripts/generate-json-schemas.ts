/**
 * Writes infra/schemas/*.json (JSON Schema of every v1 event, for producers in other languages) and
 * infra/schemas/examples/*.json from packages/schema. `--check` exits 1 when the files are stale.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exampleApiKeyInventory, exampleEvents, jsonSchemas } from '@floodgate/schema';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'infra', 'schemas');

export function generatedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, schema] of Object.entries(jsonSchemas())) {
    files.set(join(outDir, `${name}.json`), `${JSON.stringify(schema, null, 2)}\n`);
  }
  for (const [type, example] of Object.entries(exampleEvents)) {
    files.set(join(outDir, 'examples', `${type}.json`), `${JSON.stringify(example, null, 2)}\n`);
  }
  files.set(
    join(outDir, 'examples', 'api-key-inventory.json'),
    `${JSON.stringify(exampleApiKeyInventory, null, 2)}\n`,
  );
  return files;
}

function main(): void {
  const check = process.argv.includes('--check');
  const stale: string[] = [];
  for (const [path, content] of generatedFiles()) {
    let current: string | undefined;
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === content) continue;
    if (check) stale.push(path);
    else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
      console.log(`wrote ${path.slice(root.length + 1)}`);
    }
  }
  if (stale.length > 0) {
    console.error(`stale generated files (run pnpm schemas):\n${stale.map((p) => `  ${p}`).join('\n')}`);
    process.exit(1);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
