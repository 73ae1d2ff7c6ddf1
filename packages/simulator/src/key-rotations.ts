/**
 * Legitimate key rotation, planned before traffic starts so the inventory can list every key: a new
 * key is created (after an MFA login), takes over the old key's traffic from the same servers and
 * client minutes later, and the old key is revoked hours later. Benign noise a detector must absorb.
 */
import { type AccountProfile, type ApiKeyProfile, keyIdFor } from './accounts.ts';
import type { Prng } from './prng.ts';

const minuteMs = 60_000;
const hourMs = 3_600_000;
/** Rotations per key per day. */
const rotationRatePerDay = 0.01;

export function planKeyRotations(
  rng: Prng,
  accounts: readonly AccountProfile[],
  periodStartMs: number,
  periodEndMs: number,
): void {
  const days = (periodEndMs - periodStartMs) / 86_400_000;
  for (const account of accounts) {
    const originals = account.apiKeys.filter((key) => key.thirdParty === undefined);
    for (const key of originals) {
      if (!rng.chance(rotationRatePerDay * days)) continue;
      const createdAtMs = Math.round(
        rng.uniform(periodStartMs + hourMs, Math.max(periodStartMs + hourMs, periodEndMs - 2 * hourMs)),
      );
      const switchMs = createdAtMs + Math.round(rng.uniform(5, 90) * minuteMs);
      const successor: ApiKeyProfile = {
        keyId: keyIdFor(account.accountId, nextKeyNumber(account)),
        owner: key.owner,
        createdAtMs,
        purposes: [...key.purposes],
        weight: key.weight,
        networks: [...key.networks],
        sourceIps: [...key.sourceIps],
        userAgent: key.userAgentUpgrade?.userAgent ?? key.userAgent,
        allowedCountries: [...key.allowedCountries],
        activeFromMs: switchMs,
      };
      key.replacedBy = { keyId: successor.keyId, atMs: switchMs };
      key.revokedAtMs = switchMs + Math.round(rng.uniform(1, 20) * hourMs);
      account.apiKeys.push(successor);
    }
  }
}

/** The next unused key number of an account (keys are numbered 1, 2, …). */
export function nextKeyNumber(account: AccountProfile): number {
  let highest = 0;
  for (const key of account.apiKeys) {
    const number = Number(key.keyId.slice(key.keyId.lastIndexOf('_') + 1));
    if (number > highest) highest = number;
  }
  return highest + 1;
}
