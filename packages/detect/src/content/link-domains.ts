/**
 * Registrable domains of links, via the Public Suffix List (tldts). Private PSL entries count, so
 * `evil.github.io` stays distinct from `github.io`: each is a separate registrant, which is what
 * clustering and blocklists need. Results are lower-case and in DNS form — an internationalised
 * name as punycode, so its two spellings are one domain and a look-alike (`pаypal.com`, Cyrillic а)
 * shows as what it is (`xn--pypal-4ve.com`); the dots WHATWG hosts accept (。．｡) count as dots.
 * Functions never throw. Lookups are
 * memoised in bounded maps, since a campaign repeats its hosts across thousands of messages.
 */
import { domainToASCII } from 'node:url';
import { parse } from 'tldts';
import { deleteOldest } from '../bounded-map.ts';

const PSL_OPTIONS = { allowPrivateDomains: true } as const;

/** Entries per memo; the oldest entry goes first once full. */
const MEMO_CAPACITY = 4096;
/** Longer keys (far beyond any valid hostname) are looked up but not kept, bounding memo memory. */
const MEMO_MAX_KEY_LENGTH = 512;
const SPECIAL_SCHEME_LINK = /^(?:https?|ftp):\/\//i;

const BACKSLASH = 0x5c;
const SLASH = 0x2f;
const QUESTION_MARK = 0x3f;
const HASH = 0x23;

/** Memoises a pure string function; `null` stands for a cached `undefined`. */
function boundedMemo(compute: (key: string) => string | undefined): (key: string) => string | undefined {
  const entries = new Map<string, string | null>();
  return (key) => {
    const cached = entries.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const value = compute(key);
    if (key.length <= MEMO_MAX_KEY_LENGTH) {
      if (entries.size >= MEMO_CAPACITY) deleteOldest(entries);
      entries.set(key, value ?? null);
    }
    return value;
  };
}

/**
 * The registrable domain (eTLD+1) of a hostname or URL, falling back to the bare hostname for IPs,
 * `localhost` and single labels; `undefined` when no hostname can be extracted.
 */
export function registrableDomain(hostOrUrl: string): string | undefined {
  const parsed = parse(asciiDots(hostOrUrl), PSL_OPTIONS);
  const domain = parsed.domain ?? parsed.hostname;
  return domain ? dnsForm(domain) : undefined;
}

const NON_ASCII = /[^\0-\x7f]/;
const IDEOGRAPHIC_DOTS = /[\u3002\uff0e\uff61]/g;

/** `text` with the full stops a WHATWG host parser reads as '.' written as '.'. */
function asciiDots(text: string): string {
  return NON_ASCII.test(text) ? text.replace(IDEOGRAPHIC_DOTS, '.') : text;
}

/** A domain lower-cased, an internationalised one as punycode (as it was, lower-cased, if invalid). */
function dnsForm(domain: string): string {
  if (!NON_ASCII.test(domain)) return domain.toLowerCase();
  return domainToASCII(domain) || domain.toLowerCase();
}

const memoisedLinkDomain = boundedMemo(registrableDomain);
const memoisedListedDomain = boundedMemo(lookUpListedDomain);

/**
 * `registrableDomain(url)` for an `http(s)://` or `ftp://` link, memoised so that per-message paths
 * never split the memo: the URL is looked up as its prefix up to and including the first '/', '?',
 * '#' or '\' after the slashes that follow the scheme. That is where the WHATWG URL parser, and
 * tldts with it, ends the host of these schemes, so the prefix has the same host as the whole URL.
 */
export function linkRegistrableDomain(url: string): string | undefined {
  if (!SPECIAL_SCHEME_LINK.test(url)) return registrableDomain(url);
  let hostEnd = url.indexOf(':') + 1;
  while (
    hostEnd < url.length &&
    (url.charCodeAt(hostEnd) === SLASH || url.charCodeAt(hostEnd) === BACKSLASH)
  ) {
    hostEnd++;
  }
  while (hostEnd < url.length && !endsHost(url.charCodeAt(hostEnd))) hostEnd++;
  return memoisedLinkDomain(url.slice(0, hostEnd + 1));
}

function endsHost(unit: number): boolean {
  return unit === SLASH || unit === QUESTION_MARK || unit === HASH || unit === BACKSLASH;
}

/**
 * The registrable domain of a bare hostname only when it ends in a listed public suffix: decides
 * whether free text like `example.com` is a link, so `file.txt` or `v1.2` are not mistaken for one.
 */
export function listedRegistrableDomain(hostname: string): string | undefined {
  return memoisedListedDomain(hostname);
}

function lookUpListedDomain(hostname: string): string | undefined {
  const parsed = parse(asciiDots(hostname), PSL_OPTIONS);
  if (parsed.domain === null || !(parsed.isIcann === true || parsed.isPrivate === true)) return undefined;
  return dnsForm(parsed.domain);
}
