/**
 * The API key inventory as a lookup for the per-event path: allowed IPv4 networks pre-parsed into
 * numeric ranges, IPv6 networks compared by prefix, allowed countries as sets. Keys missing from
 * the inventory have no scope to violate.
 */
import type { ApiKeyInventoryEntry } from '@floodgate/schema';
import type { NormalizedOutbound } from '../normalized-event.ts';
import type { ScopeIndex } from '../signals/credential.ts';

const NO_VIOLATION: string[] = [];

interface CompiledScope {
  entry: ApiKeyInventoryEntry;
  v4: Array<[number, number]>;
  v6: Array<{ prefix: bigint; bits: number }>;
  countries: Set<string>;
}

function ipv4ToNumber(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) return Number.NaN;
  let value = 0;
  for (const part of parts) value = value * 256 + Number(part);
  return value;
}

function ipv6ToBigInt(ip: string): bigint {
  const [head = '', tail = ''] = ip.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...headGroups, ...new Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
    : headGroups;
  let value = 0n;
  for (const group of groups) value = (value << 16n) + BigInt(Number.parseInt(group || '0', 16));
  return value;
}

export function compileInventory(entries: readonly ApiKeyInventoryEntry[]): ScopeIndex {
  const byKey = new Map<string, CompiledScope>();
  for (const entry of entries) {
    const v4: Array<[number, number]> = [];
    const v6: Array<{ prefix: bigint; bits: number }> = [];
    for (const cidr of entry.allowedNetworks) {
      const [address = '', bitsText = ''] = cidr.split('/');
      const bits = Number(bitsText);
      if (address.includes(':')) {
        const mask = bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(128 - bits);
        v6.push({ prefix: ipv6ToBigInt(address) & mask, bits });
      } else {
        const size = 2 ** (32 - bits);
        const start = Math.floor(ipv4ToNumber(address) / size) * size;
        v4.push([start, start + size - 1]);
      }
    }
    byKey.set(entry.keyId, { entry, v4, v6, countries: new Set(entry.allowedCountries) });
  }
  return {
    entry: (apiKeyId) => byKey.get(apiKeyId)?.entry,
    violation(event: NormalizedOutbound): string[] {
      const scope = byKey.get(event.apiKeyId);
      if (!scope) return NO_VIOLATION;
      let reasons: string[] | undefined;
      if (event.sourceIp && (scope.v4.length > 0 || scope.v6.length > 0)) {
        let allowed = false;
        if (event.sourceIp.includes(':')) {
          const address = ipv6ToBigInt(event.sourceIp);
          for (const net of scope.v6) {
            const mask = net.bits === 0 ? 0n : ((1n << BigInt(net.bits)) - 1n) << BigInt(128 - net.bits);
            if ((address & mask) === net.prefix) allowed = true;
          }
        } else {
          const address = ipv4ToNumber(event.sourceIp);
          for (const [start, end] of scope.v4) if (address >= start && address <= end) allowed = true;
        }
        if (!allowed) {
          reasons ??= [];
          reasons.push(`source ${event.sourceNetwork} not in allowed networks`);
        }
      }
      if (scope.countries.size > 0 && !scope.countries.has(event.country)) {
        reasons ??= [];
        reasons.push(`destination ${event.country} not in allowed countries`);
      }
      return reasons ?? NO_VIOLATION;
    },
  };
}
