/**
 * Helpers shared by this package's tests (not exported from the package): address-in-network checks
 * and small fixed simulations. Kept out of `*.test.ts` so several test files can use them.
 */
import type { AccountAudit, OutboundMessage } from '@floodgate/schema';
import type { ScenarioPlanEntry } from './scenarios/registry.ts';
import type { ScenarioLabel } from './scenarios/scenario.ts';
import { type SimulationResult, simulate } from './simulate.ts';

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

function ipv6ToBigInt(address: string): bigint {
  const [head = '', tail = ''] = address.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
    : headGroups;
  return groups.reduce((value, group) => (value << 16n) + BigInt(Number.parseInt(group, 16)), 0n);
}

/** True when `address` lies inside `cidr` (IPv4 or IPv6). */
export function inNetwork(address: string, cidr: string): boolean {
  const [base = '', bitsText = ''] = cidr.split('/');
  const bits = Number(bitsText);
  const v6 = base.includes(':');
  if (v6 !== address.includes(':')) return false;
  if (!v6) {
    const shift = 32 - bits;
    return Math.floor(ipv4ToNumber(address) / 2 ** shift) === Math.floor(ipv4ToNumber(base) / 2 ** shift);
  }
  const shift = BigInt(128 - bits);
  return ipv6ToBigInt(address) >> shift === ipv6ToBigInt(base) >> shift;
}

export const testPeriodStartMs = Date.UTC(2026, 2, 2, 0, 0, 0);
export const hourMs = 3_600_000;

/** A small run with one scenario (40 accounts at a third of the usual volume unless told otherwise). */
export function scenarioRun(
  entry: ScenarioPlanEntry,
  { hours = 6, accounts = 40, seed = 17 }: { hours?: number; accounts?: number; seed?: number } = {},
): SimulationResult {
  return simulate({
    seed,
    startMs: testPeriodStartMs,
    durationMs: hours * hourMs,
    accounts,
    scenarios: [entry],
    benignRateMultiplier: 0.3,
  });
}

export function outboundOf(run: SimulationResult, accountId?: string): OutboundMessage[] {
  return run.events.filter(
    (event): event is OutboundMessage =>
      event.type === 'message.outbound' && (accountId === undefined || event.accountId === accountId),
  );
}

export function auditsOf(run: SimulationResult, accountId: string): AccountAudit[] {
  return run.events.filter(
    (event): event is AccountAudit => event.type === 'account.audit' && event.accountId === accountId,
  );
}

/** Host names of the links in a body. */
export function linkHosts(body: string | undefined): string[] {
  return [...(body ?? '').matchAll(/https?:\/\/([^/\s]+)/g)].map((match) => (match[1] ?? '').toLowerCase());
}

export function onlyLabel(run: SimulationResult): ScenarioLabel {
  const [label, ...rest] = run.labels;
  if (label === undefined || rest.length > 0) throw new Error(`expected one label, got ${run.labels.length}`);
  return label;
}
