/**
 * The configuration reference, generated from the zod schemas and the env maps the services load
 * with — so the documented variables, defaults and meanings cannot drift from what is parsed. A
 * field's meaning comes from its `.describe()`; its default from parsing `undefined` through it.
 */
import type { z } from 'zod';

export interface ReferenceSection {
  title: string;
  schema: z.ZodType;
  env: Readonly<Record<string, string>>;
}

interface FieldInfo {
  description: string;
  defaultText: string;
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The field at a dotted path, unwrapping defaults, optionals and pipes on the way. */
function fieldAt(schema: z.ZodType, path: string): { chain: z.ZodType[]; inOptional: boolean } | undefined {
  let node: z.ZodType | undefined = schema;
  const chain: z.ZodType[] = [];
  let inOptional = false;
  for (const key of path.split('.')) {
    let object: z.ZodType | undefined = node;
    while (object && defOf(object).type !== 'object') {
      const def = defOf(object);
      if (def.type === 'optional') inOptional = true;
      object = def.innerType ?? def.in;
    }
    node = object ? defOf(object).shape?.[key] : undefined;
    if (!node) return undefined;
  }
  // The wrappers down to the base type: a description may sit on any of them.
  let current: z.ZodType | undefined = node;
  while (current) {
    chain.push(current);
    const def = defOf(current);
    current = def.innerType ?? def.in;
  }
  return { chain, inOptional };
}

function describe({ chain, inOptional }: { chain: z.ZodType[]; inOptional: boolean }): FieldInfo {
  const description = chain.map((s) => s.description).find((d) => d) ?? '';
  const field = chain[0] as z.ZodType;
  const parsed = field.safeParse(undefined);
  // A field of an optional group (SASL) is needed only when the group is used.
  let defaultText = inOptional ? '—' : 'required';
  if (parsed.success)
    defaultText =
      parsed.data === undefined
        ? '—'
        : Array.isArray(parsed.data)
          ? parsed.data.join(',') || '—'
          : parsed.data === ''
            ? '(empty)'
            : String(parsed.data);
  return { description, defaultText };
}

const escapeCell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Markdown: one table per section, one row per variable, in the env map's order. */
export function configReference(sections: readonly ReferenceSection[], seen = new Set<string>()): string {
  const parts: string[] = [];
  for (const section of sections) {
    const rows: string[] = [];
    for (const [variable, path] of Object.entries(section.env)) {
      if (seen.has(variable)) continue;
      const chain = fieldAt(section.schema, path);
      if (!chain)
        throw new Error(`${section.title}: ${variable} maps to ${path}, which the schema does not have`);
      seen.add(variable);
      const info = describe(chain);
      const shown =
        info.defaultText === '—' || info.defaultText === 'required' || info.defaultText === '(empty)'
          ? info.defaultText
          : `\`${info.defaultText}\``;
      rows.push(`| \`${variable}\` | ${escapeCell(shown)} | ${escapeCell(info.description)} |`);
    }
    if (rows.length === 0) continue;
    parts.push(
      `### ${section.title}\n\n| Variable | Default | Meaning |\n| --- | --- | --- |\n${rows.join('\n')}\n`,
    );
  }
  return parts.join('\n');
}

/** Variables in the env maps whose schema field has no `.describe()` (kept at zero by a test). */
export function undocumentedVariables(sections: readonly ReferenceSection[]): string[] {
  const missing: string[] = [];
  for (const section of sections)
    for (const [variable, path] of Object.entries(section.env)) {
      const chain = fieldAt(section.schema, path);
      if (!chain || !describe(chain).description) missing.push(`${section.title}: ${variable}`);
    }
  return missing;
}
