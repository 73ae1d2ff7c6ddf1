/**
 * Recent outbound messages of an account kept for evidence: a fixed ring of what evidence reads of
 * each message, allocated only for accounts that are busy or suspicious, with a cap on how many
 * accounts hold one (the engine's). Evidence is built from it when a detection fires.
 *
 * The ring keeps what evidence shows and nothing else — not the normalised event: that holds the
 * body's template and masked text, the event id and the recipient's keyed hash, each its own string
 * (the detector parses every event from JSON), ~1 KB a message, so the engine's 2,000 rings of 512
 * held ~1 GiB at their cap (measured: `BENCH_ONLY=evidence pnpm bench:detect`). Each slot is an
 * object made once and overwritten as the ring goes round (no allocation per message); it shares its
 * strings with the slot before when they are equal (an account's messages mostly repeat its key,
 * address, agent, country, template and domains), its masked body also with the ring's last message
 * of the same fingerprint, and keeps the recipient as a 30-bit hash (distinct recipients among at
 * most 512 messages: two of them colliding is a one-in-8,000 event per full ring, and costs one
 * recipient in the count).
 */
import { hash32 } from '../content/string-hash.ts';
import type { CountItem, Evidence, TemplateEvidence } from '../detection.ts';
import type { NormalizedOutbound } from '../normalized-event.ts';

export const EVIDENCE_RING = 512;

/**
 * A message in a snapshot: its fields in order, oldest message first, each string field (and the
 * link domains) `0` when it equals the message before's, the time as the difference from the
 * message before's (the first: its own), the masked body as an index into the ring's samples. A
 * checkpoint holds every ring every few seconds: written out in full, 1,900 full rings made 128 MiB
 * of JSON, and each event's own copy before version 4 757 MiB.
 */
export type EvidenceEntryTuple = [
  timeDeltaMs: number,
  apiKeyId: string | 0,
  sourceIp: string | 0,
  userAgent: string | 0,
  country: string | 0,
  prefix: string | 0,
  recipient: number,
  fingerprint: string | 0,
  sample: number,
  linkDomains: string[] | 0,
  segments: number,
];

/** A ring in a snapshot (version 4). */
export interface EvidenceSnapshot {
  accountId: string;
  /** Slot the next message goes to. */
  next: number;
  size: number;
  lastUsedMs?: number;
  /** Distinct masked bodies the entries refer to. */
  samples?: string[];
  /** The ring's `size` messages, oldest first. */
  entries?: EvidenceEntryTuple[];
  /** Before version 4: the ring held whole normalised events, by slot. */
  events?: (NormalizedOutbound | null)[];
}

const SEED = 0x2545f491;
/** Masked bodies remembered per ring for sharing; past it the memory starts over. */
const MAX_SAMPLES = 32;
/** Characters of a recipient's keyed hash (hex) hashed: its last 16 carry 64 bits. */
const RECIPIENT_CHARS = 16;
const NO_DOMAINS: readonly string[] = Object.freeze([]);

/**
 * The hash a ring keeps of a recipient's keyed hash: 30 bits, so it is a small integer (a wider one
 * would be a boxed number of its own in every slot).
 */
export function recipientHash(recipientKey: string): number {
  return hash32(recipientKey, SEED, Math.max(0, recipientKey.length - RECIPIENT_CHARS)) & 0x3fffffff;
}

/** `previous` when it equals `value` (`===` compares contents), so the ring keeps one copy. */
function kept(previous: string | undefined, value: string): string {
  return previous === value ? previous : value;
}

/** A snapshot's `0` for a field that repeats the message before's. */
function unlessRepeated(previous: string | undefined, value: string): string | 0 {
  return previous === value ? 0 : value;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What evidence reads of one message. */
export class EvidenceSlot {
  timeMs = 0;
  apiKeyId = '';
  sourceIp = '';
  userAgent = '';
  country = '';
  prefix = '';
  recipient = 0;
  fingerprint = '';
  /** The masked body. */
  sample = '';
  linkDomains: readonly string[] = NO_DOMAINS;
  segments = 0;
}

export class EvidenceBuffer {
  /** Slots made as the ring first fills, then reused. */
  readonly slots: EvidenceSlot[] = [];
  /** Slot the next message goes to. */
  next = 0;
  size = 0;
  /** Event time of the last message pushed: an idle ring may go to another account. */
  lastUsedMs = 0;
  /** Fingerprint → the last masked body pushed with it, so equal bodies share one string. */
  readonly #sampleOf = new Map<string, string>();

  /**
   * Empties the ring for reuse; indistinguishable from a new buffer, snapshots included. The slots
   * stay for the next owner to overwrite (what they still hold is never read: reads stop at size).
   */
  reset(): this {
    this.next = 0;
    this.size = 0;
    this.lastUsedMs = 0;
    this.#sampleOf.clear();
    return this;
  }

  push(event: NormalizedOutbound): void {
    this.#fill(
      event.timeMs,
      event.apiKeyId,
      event.sourceIp,
      event.userAgent,
      event.country,
      event.prefix,
      recipientHash(event.recipientKey),
      event.fingerprint,
      event.maskedBody,
      event.linkDomains,
      event.segments,
    );
    if (event.timeMs > this.lastUsedMs) this.lastUsedMs = event.timeMs;
  }

  /** Writes the next slot, sharing equal strings with the slot before. */
  #fill(
    timeMs: number,
    apiKeyId: string,
    sourceIp: string,
    userAgent: string,
    country: string,
    prefix: string,
    recipient: number,
    fingerprint: string,
    maskedBody: string,
    linkDomains: readonly string[],
    segments: number,
  ): void {
    const at = this.next;
    let slot = this.slots[at];
    if (slot === undefined) {
      slot = new EvidenceSlot();
      this.slots.push(slot);
    }
    const before = this.size === 0 ? undefined : this.slots[(at + EVIDENCE_RING - 1) % EVIDENCE_RING];
    slot.timeMs = timeMs;
    slot.recipient = recipient;
    slot.segments = segments;
    slot.apiKeyId = kept(before?.apiKeyId, apiKeyId);
    slot.sourceIp = kept(before?.sourceIp, sourceIp);
    slot.userAgent = kept(before?.userAgent, userAgent);
    slot.country = kept(before?.country, country);
    slot.prefix = kept(before?.prefix, prefix);
    slot.fingerprint = kept(before?.fingerprint, fingerprint);
    slot.sample =
      before?.fingerprint === fingerprint && before.sample === maskedBody
        ? before.sample
        : this.#sample(fingerprint, maskedBody);
    slot.linkDomains =
      linkDomains.length === 0
        ? NO_DOMAINS
        : before !== undefined && sameList(before.linkDomains, linkDomains)
          ? before.linkDomains
          : linkDomains;
    this.next = (at + 1) % EVIDENCE_RING;
    if (this.size < EVIDENCE_RING) this.size++;
  }

  /** `maskedBody`, or the equal string the ring already holds for this fingerprint. */
  #sample(fingerprint: string, maskedBody: string): string {
    const known = this.#sampleOf.get(fingerprint);
    if (known === maskedBody) return known;
    if (known === undefined && this.#sampleOf.size >= MAX_SAMPLES) this.#sampleOf.clear();
    this.#sampleOf.set(fingerprint, maskedBody);
    return maskedBody;
  }

  /** The i-th newest message (0: the newest); i < size. */
  newest(i: number): EvidenceSlot {
    return this.slots[(this.next - 1 - i + 2 * EVIDENCE_RING) % EVIDENCE_RING] as EvidenceSlot;
  }

  toJSON(accountId: string): EvidenceSnapshot {
    const samples: string[] = [];
    const sampleIndex = new Map<string, number>();
    const entries: EvidenceEntryTuple[] = [];
    let before: EvidenceSlot | undefined;
    for (let i = this.size - 1; i >= 0; i--) {
      const slot = this.newest(i);
      let index = sampleIndex.get(slot.sample);
      if (index === undefined) {
        index = samples.length;
        samples.push(slot.sample);
        sampleIndex.set(slot.sample, index);
      }
      entries.push([
        before === undefined ? slot.timeMs : slot.timeMs - before.timeMs,
        unlessRepeated(before?.apiKeyId, slot.apiKeyId),
        unlessRepeated(before?.sourceIp, slot.sourceIp),
        unlessRepeated(before?.userAgent, slot.userAgent),
        unlessRepeated(before?.country, slot.country),
        unlessRepeated(before?.prefix, slot.prefix),
        slot.recipient,
        unlessRepeated(before?.fingerprint, slot.fingerprint),
        index,
        before !== undefined && sameList(before.linkDomains, slot.linkDomains) ? 0 : [...slot.linkDomains],
        slot.segments,
      ]);
      before = slot;
    }
    return { accountId, next: this.next, size: this.size, lastUsedMs: this.lastUsedMs, samples, entries };
  }

  /** A ring from its snapshot, of this version or (whole events) an older one. */
  static fromJSON(snapshot: EvidenceSnapshot): EvidenceBuffer {
    const buffer = new EvidenceBuffer();
    const size = Math.min(EVIDENCE_RING, snapshot.size);
    const next = snapshot.next % EVIDENCE_RING;
    // Messages in push order, oldest first, from the slot the oldest was in, so the ring comes back
    // as it was (the slots before that one made first: #fill makes a missing slot at the list's end).
    buffer.next = (next - size + EVIDENCE_RING) % EVIDENCE_RING;
    for (let at = 0; at < buffer.next; at++) buffer.slots.push(new EvidenceSlot());
    if (snapshot.entries !== undefined) {
      const samples = snapshot.samples ?? [];
      if (snapshot.entries.length !== size)
        throw new RangeError(
          `evidence ring of ${snapshot.accountId}: ${snapshot.entries.length} messages for a size of ${size}`,
        );
      const field = <T>(value: T | 0, previous: T | undefined): T => {
        if (value !== 0) return value;
        if (previous === undefined)
          throw new RangeError(
            `evidence ring of ${snapshot.accountId}: its first message refers to one before`,
          );
        return previous;
      };
      let before: EvidenceSlot | undefined;
      for (const entry of snapshot.entries) {
        const [dt, apiKeyId, sourceIp, userAgent, country, prefix, recipient, fingerprint, sample] = entry;
        const [, , , , , , , , , linkDomains, segments] = entry;
        buffer.#fill(
          before === undefined ? dt : before.timeMs + dt,
          field(apiKeyId, before?.apiKeyId),
          field(sourceIp, before?.sourceIp),
          field(userAgent, before?.userAgent),
          field(country, before?.country),
          field(prefix, before?.prefix),
          recipient,
          field(fingerprint, before?.fingerprint),
          samples[sample] ?? '',
          field<readonly string[]>(linkDomains, before?.linkDomains),
          segments,
        );
        before = buffer.newest(0);
      }
    } else {
      for (let i = size - 1; i >= 0; i--) {
        const at = (next - 1 - i + 2 * EVIDENCE_RING) % EVIDENCE_RING;
        const event = snapshot.events?.[at];
        if (!event)
          throw new RangeError(
            `evidence ring of ${snapshot.accountId}: slot ${at} of its ${size} messages is empty`,
          );
        buffer.push(event);
      }
    }
    if (snapshot.lastUsedMs !== undefined) buffer.lastUsedMs = snapshot.lastUsedMs;
    return buffer;
  }
}

export interface EvidenceFocus {
  apiKeyId?: string;
  country?: string;
  fingerprint?: string;
  domain?: string;
  sinceMs?: number;
}

export interface NoveltyLookup {
  isNewKey(apiKeyId: string): boolean;
  isNewNetwork(apiKeyId: string, network: string): boolean;
  isNewDomain(domain: string): boolean;
  isNewCountry(country: string): boolean;
  isNewTemplate(fingerprint: string): boolean;
}

function top(counts: Map<string, number>, limit: number, isNew?: (value: string) => boolean): CountItem[] {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, limit)
    .map(([value, count]) => (isNew?.(value) ? { value, count, isNew: true } : { value, count }));
}

function bump(map: Map<string, number>, key: string): void {
  if (key) map.set(key, (map.get(key) ?? 0) + 1);
}

export function buildEvidence(
  buffer: EvidenceBuffer | undefined,
  trigger: NormalizedOutbound | undefined,
  focus: EvidenceFocus,
  novelty: NoveltyLookup,
  pricePerSegment: Readonly<Record<string, number>>,
  observed: number,
): Omit<
  Evidence,
  'reason' | 'metrics' | 'auditEvents' | 'messagesBeforeDetection' | 'anomalyStartMs' | 'detectorVersion'
> {
  const templates = new Map<string, { sample: string; count: number }>();
  const countries = new Map<string, number>();
  const prefixes = new Map<string, number>();
  const keys = new Map<string, number>();
  const ips = new Map<string, number>();
  const agents = new Map<string, number>();
  const domains = new Map<string, number>();
  const recipients = new Set<number>();
  let cost = 0;
  let matched = 0;
  const visit = (m: EvidenceSlot): void => {
    if (focus.sinceMs !== undefined && m.timeMs < focus.sinceMs) return;
    if (focus.apiKeyId !== undefined && m.apiKeyId !== focus.apiKeyId) return;
    if (focus.country !== undefined && m.country !== focus.country) return;
    if (focus.fingerprint !== undefined && m.fingerprint !== focus.fingerprint) return;
    if (focus.domain !== undefined && !m.linkDomains.includes(focus.domain)) return;
    matched++;
    const template = templates.get(m.fingerprint);
    if (template) template.count++;
    else templates.set(m.fingerprint, { sample: m.sample, count: 1 });
    bump(countries, m.country);
    bump(prefixes, m.prefix);
    bump(keys, m.apiKeyId);
    bump(ips, m.sourceIp);
    bump(agents, m.userAgent);
    for (const domain of m.linkDomains) bump(domains, domain);
    recipients.add(m.recipient);
    cost += (pricePerSegment[m.country] ?? pricePerSegment['default'] ?? 0) * m.segments;
  };
  if (buffer) {
    for (let i = 0; i < buffer.size; i++) visit(buffer.newest(i));
  } else if (trigger) {
    // No ring: the evidence is the triggering message alone.
    const alone = new EvidenceBuffer();
    alone.push(trigger);
    visit(alone.newest(0));
  }
  const topTemplates: TemplateEvidence[] = [...templates.entries()]
    .sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1))
    .slice(0, 5)
    .map(([fingerprint, t]) =>
      novelty.isNewTemplate(fingerprint)
        ? { fingerprint, sample: t.sample, count: t.count, isNew: true }
        : { fingerprint, sample: t.sample, count: t.count },
    );
  // The buffer holds a sample of the window; scale its cost to everything observed.
  const costPerMessage = matched > 0 ? cost / matched : 0;
  const firstKey = focus.apiKeyId;
  return {
    topTemplates,
    topCountries: top(countries, 5, (c) => novelty.isNewCountry(c)),
    topPrefixes: top(prefixes, 5),
    distinctRecipients: recipients.size,
    apiKeys: top(keys, 5, (k) => novelty.isNewKey(k)),
    sourceIps: top(ips, 5, (ip) => {
      const lastDot = ip.lastIndexOf('.');
      const network = ip.includes(':') ? ip : `${ip.slice(0, lastDot)}.0/24`;
      return novelty.isNewNetwork(firstKey ?? [...keys.keys()][0] ?? '', network);
    }),
    userAgents: top(agents, 3),
    linkDomains: top(domains, 5, (d) => novelty.isNewDomain(d)),
    estimatedCostUsd: Math.round(costPerMessage * Math.max(observed, matched) * 100) / 100,
  };
}
