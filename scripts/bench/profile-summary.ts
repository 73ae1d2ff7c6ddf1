/** The functions a V8 .cpuprofile spent most of its samples in (self time), grouped by function and place. */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface HotFunction {
  name: string;
  where: string;
  selfPercent: number;
}

export function topFunctions(profile: { nodes: ProfileNode[] }, limit = 15): HotFunction[] {
  const totals = new Map<string, { name: string; where: string; hits: number }>();
  let all = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    all += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    // Paths shortened to the package and file: node_modules/.pnpm/kafkajs@2.2.4/node_modules/kafkajs/src/x.js → kafkajs/src/x.js
    const short = url
      .replace(/^file:\/\//, '')
      .replace(/^.*node_modules\/(?!\.pnpm)/, '')
      .replace(/^.*\/(packages|services)\//, '$1/');
    const where = short ? `${short}:${lineNumber + 1}` : '';
    const key = `${name}\u0000${where}`;
    const entry = totals.get(key) ?? { name, where, hits: 0 };
    entry.hits += hits;
    totals.set(key, entry);
  }
  return [...totals.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, limit)
    .map((e) => ({ name: e.name, where: e.where, selfPercent: all > 0 ? (100 * e.hits) / all : 0 }));
}
