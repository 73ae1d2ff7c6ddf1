/**
 * User agents of API clients and console browsers. Most senders call the API through a provider SDK,
 * some through plain HTTP libraries (including python-requests, which attackers favour too), and
 * careful attackers copy an SDK string: a scripting UA is a hint, never a label.
 */
import type { Prng } from './prng.ts';

type Builder = (rng: Prng) => string;

const linuxPlatform = (rng: Prng): string => rng.pick(['Linux x86_64', 'Linux aarch64', 'Darwin arm64']);

const sdkBuilders: readonly Builder[] = [
  (rng) =>
    `twilio-python/9.${rng.int(0, 4)}.${rng.int(0, 6)} (${linuxPlatform(rng)}) Python/3.${rng.int(10, 12)}.${rng.int(1, 9)}`,
  (rng) =>
    `twilio-node/5.${rng.int(0, 4)}.${rng.int(0, 9)} (linux x64) node/v${rng.pick([18, 20, 22])}.${rng.int(1, 18)}.${rng.int(0, 3)}`,
  (rng) =>
    `twilio-java/10.${rng.int(0, 6)}.${rng.int(0, 9)} (Linux amd64) Java/${rng.pick([11, 17, 21])}.0.${rng.int(1, 12)}`,
  (rng) =>
    `twilio-php/8.${rng.int(0, 3)}.${rng.int(0, 9)} (Linux x86_64) PHP/8.${rng.int(1, 3)}.${rng.int(1, 20)}`,
  (rng) =>
    `twilio-ruby/7.${rng.int(0, 3)}.${rng.int(0, 9)} (linux x86_64) Ruby/3.${rng.int(1, 3)}.${rng.int(0, 4)}`,
  (rng) => `twilio-csharp/7.${rng.int(0, 5)}.${rng.int(0, 9)} (Linux X64) .NET/8.0.${rng.int(1, 11)}`,
  (rng) =>
    `twilio-go/1.${rng.int(20, 23)}.${rng.int(0, 5)} (linux amd64) go/1.2${rng.int(1, 3)}.${rng.int(0, 6)}`,
  (rng) =>
    `@vonage/server-sdk/3.${rng.int(8, 14)}.${rng.int(0, 5)} node/${rng.pick([18, 20, 22])}.${rng.int(1, 18)}.0`,
  (rng) => `vonage-python/3.${rng.int(10, 17)}.${rng.int(0, 4)} python/3.${rng.int(9, 12)}.${rng.int(1, 9)}`,
  (rng) => `messagebird-php/4.${rng.int(0, 2)}.${rng.int(0, 9)}`,
  (rng) => `sinch-sdk-java/1.${rng.int(0, 4)}.${rng.int(0, 9)}`,
];

const httpClientBuilders: readonly Builder[] = [
  (rng) => `python-requests/2.${rng.int(28, 32)}.${rng.int(0, 3)}`,
  (rng) => `okhttp/4.${rng.int(9, 12)}.${rng.int(0, 3)}`,
  (rng) => `Apache-HttpClient/4.5.${rng.int(12, 14)} (Java/${rng.pick([11, 17])}.0.${rng.int(10, 21)})`,
  (rng) => `axios/1.${rng.int(4, 7)}.${rng.int(0, 9)}`,
  () => 'Go-http-client/2.0',
  (rng) => `GuzzleHttp/7 curl/8.${rng.int(1, 6)}.0 PHP/8.${rng.int(1, 3)}.${rng.int(1, 20)}`,
  (rng) =>
    `node-fetch/1.0 (+https://github.com/bitinn/node-fetch) node/${rng.pick([18, 20])}.${rng.int(1, 18)}.0`,
];

const attackerBuilders: readonly Builder[] = [
  (rng) => `python-requests/2.${rng.int(25, 32)}.${rng.int(0, 3)}`,
  (rng) => `python-requests/2.${rng.int(25, 32)}.${rng.int(0, 3)}`,
  (rng) => `python-httpx/0.${rng.int(24, 27)}.${rng.int(0, 2)}`,
  (rng) => `curl/8.${rng.int(0, 9)}.${rng.int(0, 1)}`,
  () => 'Go-http-client/1.1',
  (rng) => `axios/1.${rng.int(2, 7)}.${rng.int(0, 9)}`,
  (rng) => `aiohttp/3.${rng.int(8, 9)}.${rng.int(0, 5)} Python/3.${rng.int(10, 12)}`,
];

const browserBuilders: readonly Builder[] = [
  (rng) =>
    `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${rng.int(118, 126)}.0.0.0 Safari/537.36`,
  (rng) =>
    `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${rng.int(118, 126)}.0.0.0 Safari/537.36`,
  (rng) =>
    `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.${rng.int(0, 5)} Safari/605.1.15`,
  (rng) =>
    `Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:${rng.int(115, 127)}.0) Gecko/20100101 Firefox/${rng.int(115, 127)}.0`,
  (rng) =>
    `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${rng.int(118, 126)}.0.0.0 Safari/537.36 Edg/${rng.int(118, 126)}.0.0.0`,
];

/** The client a sender's key usually sends with: mostly a provider SDK, sometimes a bare HTTP library. */
export function senderUserAgent(rng: Prng): string {
  return rng.chance(0.82) ? rng.pick(sdkBuilders)(rng) : rng.pick(httpClientBuilders)(rng);
}

/** An SDK upgrade: same family, different version (benign UA change). */
export function upgradedUserAgent(rng: Prng, current: string): string {
  return current.replace(/\/(\d+)\.(\d+)\.(\d+)/, (_match, major: string, minor: string) => {
    return `/${major}.${Number(minor) + rng.int(1, 2)}.${rng.int(0, 3)}`;
  });
}

/** A scripting client typical of abuse tooling. */
export function scriptingUserAgent(rng: Prng): string {
  return rng.pick(attackerBuilders)(rng);
}

/** Any plausible SDK string (an attacker spoofing a legitimate client). */
function sdkUserAgent(rng: Prng): string {
  return rng.pick(sdkBuilders)(rng);
}

export function browserUserAgent(rng: Prng): string {
  return rng.pick(browserBuilders)(rng);
}

/**
 * What an attacker sends with: a scripting library, or a spoofed SDK string (sometimes the exact one
 * the account uses, copied from leaked code).
 */
export function attackerUserAgent(rng: Prng, accountUserAgent: string): string {
  const roll = rng.next();
  if (roll < 0.2) return accountUserAgent;
  if (roll < 0.32) return sdkUserAgent(rng);
  return scriptingUserAgent(rng);
}
