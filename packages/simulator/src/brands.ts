/**
 * Sender brands: a name fitting the account's use, its own link domain under the home market's
 * TLD, sometimes its own short-link domain or a public shortener, and an alphanumeric sender id.
 * Names and domains are unique within one simulation (the registry remembers what it handed out).
 */
import type { Prng } from './prng.ts';

export type AccountUse = 'otp' | 'marketing' | 'notifications' | 'mixed';

export interface Brand {
  readonly name: string;
  readonly linkDomain: string;
  readonly shortLinkDomain: string | undefined;
  readonly alphaSenderId: string;
}

const firstWords = [
  'Blue',
  'North',
  'Bright',
  'Sun',
  'Urban',
  'Green',
  'Swift',
  'Pixel',
  'Maple',
  'Coral',
  'Nova',
  'Atlas',
  'Harbor',
  'Summit',
  'Cedar',
  'Lumen',
  'Orbit',
  'Velvet',
  'Kite',
  'Echo',
  'Zest',
  'Pine',
  'River',
  'Silver',
  'Apex',
  'Golden',
  'Lotus',
  'Metro',
  'Oak',
  'Prime',
  'Quartz',
  'Rapid',
  'Sierra',
  'Terra',
  'Vista',
  'Willow',
];

const secondWordsByUse: Readonly<Record<AccountUse, readonly string[]>> = {
  otp: ['Pay', 'Bank', 'Wallet', 'ID', 'Cloud', 'Bet', 'Chat', 'Trade', 'Games', 'Dating', 'Crypto', 'Auth'],
  notifications: [
    'Clinic',
    'Dental',
    'Health',
    'Post',
    'Energy',
    'Telecom',
    'Vet',
    'Salon',
    'Logistics',
    'Insurance',
  ],
  marketing: ['Shop', 'Style', 'Cart', 'Outlet', 'Beauty', 'Market', 'Deals', 'Fashion', 'Home', 'Sports'],
  mixed: ['Eats', 'Ride', 'Travel', 'Fit', 'Store', 'Pharmacy', 'Tickets', 'Foods', 'Rentals', 'Pets'],
};

const topLevelDomains: Readonly<Record<string, readonly string[]>> = {
  US: ['com', 'com', 'com', 'co', 'io'],
  CA: ['ca', 'com'],
  GB: ['co.uk', 'co.uk', 'com'],
  DE: ['de', 'de', 'com'],
  FR: ['fr', 'fr', 'com'],
  ES: ['es', 'com'],
  IT: ['it', 'com'],
  NL: ['nl', 'com'],
  BR: ['com.br', 'com.br', 'com'],
  MX: ['com.mx', 'mx', 'com'],
  IN: ['in', 'co.in', 'com'],
  AU: ['com.au', 'com.au', 'com'],
  NG: ['ng', 'com.ng', 'com'],
  PH: ['ph', 'com.ph', 'com'],
  ID: ['co.id', 'id', 'com'],
  ZA: ['co.za', 'com'],
};

const publicShorteners = ['bit.ly', 'tinyurl.com', 'rb.gy'];

export class BrandRegistry {
  readonly #usedNames = new Set<string>();
  readonly #usedDomains = new Set<string>();

  create(rng: Prng, use: AccountUse, homeCountry: string): Brand {
    const second = secondWordsByUse[use];
    let name = `${rng.pick(firstWords)} ${rng.pick(second)}`;
    for (let attempt = 0; this.#usedNames.has(name); attempt++) {
      name = attempt < 20 ? `${rng.pick(firstWords)} ${rng.pick(second)}` : `${name} ${rng.int(2, 99)}`;
    }
    this.#usedNames.add(name);

    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, rng.chance(0.3) ? '-' : '');
    const tld = rng.pick(topLevelDomains[homeCountry] ?? ['com']);
    let linkDomain = `${slug}.${tld}`;
    if (this.#usedDomains.has(linkDomain)) linkDomain = `${rng.pick(['get', 'my', 'go'])}${slug}.${tld}`;
    this.#usedDomains.add(linkDomain);

    let shortLinkDomain: string | undefined;
    const shortRoll = rng.next();
    if (shortRoll < 0.15) {
      const letters = name.replace(/[^A-Za-z]/g, '').toLowerCase();
      shortLinkDomain = `${letters.slice(0, rng.int(3, 5))}${rng.pick(['.link', '.ly', '.to', '.me', '.co'])}`;
      if (this.#usedDomains.has(shortLinkDomain))
        shortLinkDomain = `${letters.slice(0, 6)}${rng.int(1, 9)}.link`;
      this.#usedDomains.add(shortLinkDomain);
    } else if (shortRoll < 0.25) {
      // Public shorteners are shared by many senders: a link domain that says nothing about one account.
      shortLinkDomain = rng.pick(publicShorteners);
    }

    const alphaSenderId = name.replace(/[^A-Za-z0-9]/g, '').slice(0, 11);
    return { name, linkDomain, shortLinkDomain, alphaSenderId };
  }
}
