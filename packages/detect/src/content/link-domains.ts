/**
 * Registrable domains of links, via the Public Suffix List (tldts). Private PSL entries count, so
 * `evil.github.io` stays distinct from `github.io`: each is a separate registrant, which is what
 * clustering and blocklists need. Results are lower-case; functions never throw.
 */
import { parse } from 'tldts';

const PSL_OPTIONS = { allowPrivateDomains: true } as const;

/**
 * The registrable domain (eTLD+1) of a hostname or URL, falling back to the bare hostname for IPs,
 * `localhost` and single labels; `undefined` when no hostname can be extracted.
 */
export function registrableDomain(hostOrUrl: string): string | undefined {
  const parsed = parse(hostOrUrl, PSL_OPTIONS);
  const domain = parsed.domain ?? parsed.hostname;
  return domain ? domain.toLowerCase() : undefined;
}

/**
 * The registrable domain of a bare hostname only when it ends in a listed public suffix: decides
 * whether free text like `example.com` is a link, so `file.txt` or `v1.2` are not mistaken for one.
 */
export function listedRegistrableDomain(hostname: string): string | undefined {
  const parsed = parse(hostname, PSL_OPTIONS);
  if (parsed.domain === null || !(parsed.isIcann === true || parsed.isPrivate === true)) return undefined;
  return parsed.domain.toLowerCase();
}
