/**
 * One shared copy of the short strings many keys remember: source networks, user agents, country
 * codes. Every event arrives with its own copies (JSON.parse makes new strings), and a key keeps the
 * copy of the event that set it, so a million keys held a million copies of a few thousand values.
 * Bounded: past the limit the table starts over (values then share less, nothing breaks).
 */
const MAX_INTERNED = 65_536;
/** Longer strings are rare to repeat and costly to hash on every change. */
const MAX_INTERNED_LENGTH = 256;
const table = new Map<string, string>();

export function intern(value: string): string {
  if (value.length > MAX_INTERNED_LENGTH) return value;
  const known = table.get(value);
  if (known !== undefined) return known;
  if (table.size >= MAX_INTERNED) table.clear();
  table.set(value, value);
  return value;
}
