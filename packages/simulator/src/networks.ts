/**
 * Source networks: where senders' servers and offices live, where employees roam, and where
 * attackers come from. The pools overlap on purpose (legit senders run in clouds and on hosting
 * ranges, attackers use clouds and residential proxies), so only novelty per account separates them.
 */
import type { Prng } from './prng.ts';

/** A /24 (or an IPv6 /64) and how to draw host addresses inside it. */
export interface Network {
  readonly cidr: string;
  readonly base: string;
  readonly ipv6: boolean;
}

/** First octets of ranges where application servers run: cloud regions, colocation, enterprise. */
const serverFirstOctets = [
  3, 13, 18, 20, 34, 35, 40, 44, 52, 54, 104, 12, 38, 63, 64, 66, 69, 72, 74, 199, 204, 206, 208, 209, 216,
  46, 78, 80, 85, 88, 91, 94, 185, 193, 194, 195, 177, 186, 187, 200, 201, 103, 110, 118, 121, 202, 41, 102,
  105, 154, 197,
];
/** Hosting, VPS and cloud ranges attackers rent (also used by some legitimate senders). */
const hostingFirstOctets = [
  45, 45, 45, 185, 185, 104, 104, 5, 91, 193, 194, 146, 159, 167, 178, 188, 51, 54, 3, 18, 35, 139, 172, 65,
  95, 141,
];
/** Residential and mobile ranges: travelling employees, residential proxies. */
const residentialFirstOctets = [
  73, 24, 68, 71, 76, 98, 99, 107, 174, 2, 31, 37, 77, 79, 82, 86, 90, 92, 109, 151, 176, 179, 189, 190, 110,
  112, 117, 124, 42, 41, 105, 197,
];

function ipv4Network(firstOctet: number, second: number, third: number): Network {
  const base = `${firstOctet}.${second}.${third}.`;
  return { cidr: `${base}0/24`, base, ipv6: false };
}

function randomIpv4Network(rng: Prng, firstOctets: readonly number[]): Network {
  return ipv4Network(rng.pick(firstOctets), rng.int(1, 254), rng.int(0, 255));
}

/** A network for a sender's application servers; a few senders are on IPv6. */
export function serverNetwork(rng: Prng): Network {
  if (rng.chance(0.05)) {
    const prefix = rng.pick(['2600:1f18', '2600:1f14', '2a05:d018', '2a01:4f8', '2001:db8']);
    const base = `${prefix}:${rng.int(0x100, 0xfff).toString(16)}:${rng.int(0x1000, 0xfff0).toString(16)}::`;
    return { cidr: `${base}/64`, base, ipv6: true };
  }
  return randomIpv4Network(rng, serverFirstOctets);
}

export function officeNetwork(rng: Prng): Network {
  return randomIpv4Network(rng, rng.chance(0.5) ? residentialFirstOctets : serverFirstOctets);
}

export function hostingNetwork(rng: Prng): Network {
  return randomIpv4Network(rng, hostingFirstOctets);
}

export function residentialNetwork(rng: Prng): Network {
  return randomIpv4Network(rng, residentialFirstOctets);
}

/** A host address inside `network` (never the network or broadcast address). */
export function hostIn(rng: Prng, network: Network): string {
  return network.ipv6
    ? `${network.base}${rng.int(1, 0xfffe).toString(16)}`
    : `${network.base}${rng.int(2, 253)}`;
}
