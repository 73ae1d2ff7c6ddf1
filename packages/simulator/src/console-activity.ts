/**
 * Benign console activity, scheduled one simulated day at a time: working-hours logins from the
 * office (with MFA where the account enforces it), typos before a login, employees logging in from
 * hotels and homes, and planned key rotations. Noise an account-takeover detector must not page on.
 */
import type { AccountRuntime } from './account-runtime.ts';
import { hashString, mix2 } from './hash.ts';
import { hostIn, officeNetwork, residentialNetwork } from './networks.ts';
import { Prng } from './prng.ts';
import type { TrafficWriter } from './traffic-writer.ts';
import { browserUserAgent } from './user-agents.ts';

const minuteMs = 60_000;
const hourMs = 3_600_000;
const dayMs = 86_400_000;

interface ConsoleUser {
  readonly email: string;
  readonly browser: string;
  readonly homeIp: string;
}

function parseOfficeBase(cidr: string): { cidr: string; base: string; ipv6: boolean } {
  return { cidr, base: cidr.slice(0, cidr.lastIndexOf('.') + 1), ipv6: false };
}

export class ConsoleActivity {
  readonly #accounts: readonly AccountRuntime[];
  readonly #writer: TrafficWriter;
  readonly #rng: Prng;
  readonly #users: ReadonlyMap<string, readonly ConsoleUser[]>;

  constructor(accounts: readonly AccountRuntime[], writer: TrafficWriter, rng: Prng) {
    this.#accounts = accounts;
    this.#writer = writer;
    this.#rng = rng;
    const users = new Map<string, ConsoleUser[]>();
    for (const account of accounts) {
      users.set(
        account.profile.accountId,
        account.profile.consoleUsers.map((email) => {
          // Stable per person: the same laptop browser and home connection every day.
          const personal = new Prng(mix2(rng.seed, hashString(email)));
          return {
            email,
            browser: browserUserAgent(personal),
            homeIp: hostIn(personal, residentialNetwork(personal)),
          };
        }),
      );
    }
    this.#users = users;
  }

  /** Schedules the day [dayStartMs, dayStartMs + 1 day) for every account. */
  scheduleDay(dayStartMs: number): void {
    const rng = this.#rng;
    const dayEndMs = dayStartMs + dayMs;
    for (const account of this.#accounts) {
      const profile = account.profile;
      const office = parseOfficeBase(profile.officeNetwork);
      const users = this.#users.get(profile.accountId) ?? [];
      for (const user of users) {
        const loginMs = this.#localWorkTime(rng, account, dayStartMs);
        const weekday = new Date(loginMs + profile.utcOffsetMinutes * minuteMs).getUTCDay();
        const loginProbability = weekday === 0 || weekday === 6 ? 0.12 : 0.65;
        if (!rng.chance(loginProbability)) continue;
        const where = rng.next();
        // Travelling employees sign in from networks the account never used, but with MFA.
        const sourceIp =
          where < 0.9
            ? hostIn(rng, office)
            : where < 0.96
              ? user.homeIp
              : hostIn(rng, rng.chance(0.5) ? residentialNetwork(rng) : officeNetwork(rng));
        this.#login(rng, account, user, loginMs, sourceIp);
      }
      if (rng.chance(0.003 * users.length)) {
        const user = rng.pick(users);
        const timeMs = this.#localWorkTime(rng, account, dayStartMs);
        this.#login(rng, account, user, timeMs - rng.int(60, 600) * 1000, hostIn(rng, office));
        this.#audit(
          account,
          user,
          timeMs,
          rng.pick(['password_changed', 'webhook_changed', 'user_added', 'role_changed'] as const),
          hostIn(rng, office),
        );
      }
      this.#scheduleKeyLifecycle(rng, account, dayStartMs, dayEndMs, office);
    }
  }

  /** Rotations planned in the profile: MFA login, key creation, and the old key's revocation later. */
  #scheduleKeyLifecycle(
    rng: Prng,
    account: AccountRuntime,
    dayStartMs: number,
    dayEndMs: number,
    office: { cidr: string; base: string; ipv6: boolean },
  ): void {
    const users = this.#users.get(account.profile.accountId) ?? [];
    const admin = users[0];
    if (admin === undefined) return;
    for (const key of account.profile.apiKeys) {
      if (key.activeFromMs !== undefined && key.createdAtMs >= dayStartMs && key.createdAtMs < dayEndMs) {
        const sourceIp = hostIn(rng, office);
        this.#login(rng, account, admin, key.createdAtMs - rng.int(60, 900) * 1000, sourceIp, true);
        this.#audit(account, admin, key.createdAtMs, 'api_key_created', sourceIp, key.keyId, true);
      }
      if (key.revokedAtMs !== undefined && key.revokedAtMs >= dayStartMs && key.revokedAtMs < dayEndMs) {
        const sourceIp = hostIn(rng, office);
        this.#login(rng, account, admin, key.revokedAtMs - rng.int(60, 900) * 1000, sourceIp, true);
        this.#audit(account, admin, key.revokedAtMs, 'api_key_revoked', sourceIp, key.keyId, true);
      }
    }
  }

  /** A time during local working hours of the account that falls inside the given UTC day. */
  #localWorkTime(rng: Prng, account: AccountRuntime, dayStartMs: number): number {
    const localMinute = Math.round(Math.min(19.5, Math.max(7.5, rng.normal(11.5, 2.5))) * 60);
    const utcMinute = localMinute - account.profile.utcOffsetMinutes;
    const dayStartMinute = Math.floor(dayStartMs / minuteMs) % 1440;
    const offsetInDay = (((utcMinute - dayStartMinute) % 1440) + 1440) % 1440;
    return dayStartMs + offsetInDay * minuteMs + rng.int(0, minuteMs - 1);
  }

  /** `withMfa`: key administration needs an MFA session even where the account does not enforce it. */
  #login(
    rng: Prng,
    account: AccountRuntime,
    user: ConsoleUser,
    loginMs: number,
    sourceIp: string,
    withMfa = account.profile.mfaEnforced,
  ): void {
    if (rng.chance(0.06)) {
      // A mistyped password first.
      const failures = rng.chance(0.8) ? 1 : 2;
      for (let attempt = failures; attempt >= 1; attempt--) {
        this.#writer.audit({
          account,
          timeMs: loginMs - attempt * rng.int(5, 40) * 1000,
          actor: user.email,
          action: 'login_failed',
          sourceIp,
          userAgent: user.browser,
        });
      }
    }
    this.#writer.audit({
      account,
      timeMs: loginMs,
      actor: user.email,
      action: 'login',
      mfaUsed: withMfa,
      sourceIp,
      userAgent: user.browser,
    });
    if (rng.chance(0.3)) {
      this.#writer.audit({
        account,
        timeMs: loginMs + rng.uniform(0.2, 4) * hourMs,
        actor: user.email,
        action: 'logout',
        sourceIp,
        userAgent: user.browser,
      });
    }
  }

  #audit(
    account: AccountRuntime,
    user: ConsoleUser,
    timeMs: number,
    action:
      | 'password_changed'
      | 'webhook_changed'
      | 'user_added'
      | 'role_changed'
      | 'api_key_created'
      | 'api_key_revoked',
    sourceIp: string,
    targetApiKeyId?: string,
    withMfa = account.profile.mfaEnforced,
  ): void {
    this.#writer.audit({
      account,
      timeMs,
      actor: user.email,
      action,
      mfaUsed: withMfa,
      sourceIp,
      userAgent: user.browser,
      ...(targetApiKeyId === undefined ? {} : { targetApiKeyId }),
    });
  }
}
