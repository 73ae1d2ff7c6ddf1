/**
 * The configured allow-lists, compiled once for the per-message path: maps instead of config
 * records (an id such as "constructor" must not find Object.prototype's), recipient prefixes by
 * length, and allow-listed templates in a near-duplicate index of their own, so a template's
 * variants (a changed word, a different link path) are allowed with it — not only the one
 * fingerprint written in the config.
 */
import type { DetectConfig } from '../config.ts';
import { fingerprintFromHex, NearDuplicateIndex } from '../content/index.ts';

export type AllowEntry = DetectConfig['allowList']['accounts'][string];

/** An entry that matched, and what it matched on (part of the thresholds cache key). */
export interface AllowMatch {
  entry: AllowEntry;
  id: string;
}

/** What a message offers to the recipient and prefix lists (replies have no number). */
export interface AllowRecipient {
  recipientKey: string;
  recipientNumeric?: number;
  prefix?: string;
}

export class AllowLists {
  readonly #accounts: Map<string, AllowEntry>;
  readonly #apiKeys: Map<string, AllowEntry>;
  readonly #recipients: Map<string, AllowEntry>;
  /** Prefix digits (no '+') → entry. */
  readonly #prefixes: Map<string, AllowEntry>;
  /** The prefixes' distinct lengths, longest first: the most specific entry wins. */
  readonly #prefixLengths: number[];
  readonly #templates: Map<string, AllowEntry>;
  readonly #templateIndex: NearDuplicateIndex<string> | null;
  /** Whether any entry applies its own thresholds instead of exempting. */
  readonly hasThresholdEntries: boolean;
  /** Whether there is any entry at all: most deployments have none, and skip every lookup. */
  readonly any: boolean;

  constructor(config: Pick<DetectConfig, 'allowList' | 'content'>) {
    const allow = config.allowList;
    this.#accounts = new Map(Object.entries(allow.accounts));
    this.#apiKeys = new Map(Object.entries(allow.apiKeys));
    this.#recipients = new Map(Object.entries(allow.recipients));
    this.#prefixes = new Map(Object.entries(allow.prefixes).map(([p, e]) => [p.replace(/^\+/, ''), e]));
    this.#prefixLengths = [...new Set([...this.#prefixes.keys()].map((p) => p.length))].sort((a, b) => b - a);
    this.#templates = new Map(Object.entries(allow.templates).map(([f, e]) => [f.toLowerCase(), e]));
    if (this.#templates.size > 0) {
      this.#templateIndex = new NearDuplicateIndex<string>({
        maxDistance: config.content.maxHammingDistance,
        capacity: this.#templates.size,
      });
      for (const fingerprint of this.#templates.keys())
        this.#templateIndex.add(fingerprintFromHex(fingerprint), fingerprint);
    } else {
      this.#templateIndex = null;
    }
    this.any =
      this.#accounts.size +
        this.#apiKeys.size +
        this.#recipients.size +
        this.#prefixes.size +
        this.#templates.size >
      0;
    this.hasThresholdEntries = [
      this.#accounts,
      this.#apiKeys,
      this.#recipients,
      this.#prefixes,
      this.#templates,
    ].some((map) => [...map.values()].some((e) => e.mode === 'thresholds'));
  }

  account(accountId: string): AllowEntry | undefined {
    return this.#accounts.size === 0 ? undefined : this.#accounts.get(accountId);
  }

  apiKey(apiKeyId: string): AllowEntry | undefined {
    return this.#apiKeys.size === 0 ? undefined : this.#apiKeys.get(apiKeyId);
  }

  /** The entry of the template or of an allow-listed template within the near-duplicate distance. */
  template(fingerprint: string): AllowMatch | undefined {
    if (this.#templateIndex === null || fingerprint === '') return undefined;
    const exact = this.#templates.get(fingerprint);
    if (exact !== undefined) return { entry: exact, id: fingerprint };
    const near = this.#templateIndex.findNearest(fingerprintFromHex(fingerprint));
    return near === undefined
      ? undefined
      : { entry: this.#templates.get(near.id) as AllowEntry, id: near.id };
  }

  /** The entry of the recipient, else of the longest allow-listed prefix of its number. */
  recipient(message: AllowRecipient): AllowMatch | undefined {
    if (this.#recipients.size > 0) {
      const entry = this.#recipients.get(message.recipientKey);
      if (entry !== undefined) return { entry, id: `r:${message.recipientKey}` };
    }
    if (this.#prefixLengths.length === 0) return undefined;
    const numeric = message.recipientNumeric ?? 0;
    const digits = numeric > 0 ? String(numeric) : (message.prefix ?? '').replace(/^\+/, '');
    for (const length of this.#prefixLengths) {
      if (digits.length < length) continue;
      const prefix = digits.slice(0, length);
      const entry = this.#prefixes.get(prefix);
      if (entry !== undefined) return { entry, id: `p:${prefix}` };
    }
    return undefined;
  }
}
