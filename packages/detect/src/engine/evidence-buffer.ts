/**
 * Recent outbound messages of an account kept for evidence: a fixed ring of references to the
 * normalised events (no copies), allocated only for accounts that are busy or suspicious, with a
 * cap on how many accounts hold one. Evidence is built from it when a detection fires.
 */
import type { CountItem, Evidence, TemplateEvidence } from '../detection.ts';
import type { NormalizedOutbound } from '../normalized-event.ts';

export const EVIDENCE_RING = 512;

export class EvidenceBuffer {
  readonly events: (NormalizedOutbound | undefined)[] = new Array(EVIDENCE_RING);
  next = 0;
  size = 0;
  lastUsedMs = 0;

  /** Empties the ring for reuse; indistinguishable from a new buffer, snapshots included. */
  reset(): this {
    this.events.fill(undefined);
    this.next = 0;
    this.size = 0;
    this.lastUsedMs = 0;
    return this;
  }

  push(event: NormalizedOutbound): void {
    this.events[this.next] = event;
    this.next = (this.next + 1) % EVIDENCE_RING;
    if (this.size < EVIDENCE_RING) this.size++;
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

export function matchesFocus(event: NormalizedOutbound, focus: EvidenceFocus): boolean {
  if (focus.sinceMs !== undefined && event.timeMs < focus.sinceMs) return false;
  if (focus.apiKeyId !== undefined && event.apiKeyId !== focus.apiKeyId) return false;
  if (focus.country !== undefined && event.country !== focus.country) return false;
  if (focus.fingerprint !== undefined && event.fingerprint !== focus.fingerprint) return false;
  if (focus.domain !== undefined && !event.linkDomains.includes(focus.domain)) return false;
  return true;
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
  const recipients = new Set<string>();
  let cost = 0;
  let matched = 0;
  const visit = (event: NormalizedOutbound): void => {
    if (!matchesFocus(event, focus)) return;
    matched++;
    const template = templates.get(event.fingerprint);
    if (template) template.count++;
    else templates.set(event.fingerprint, { sample: event.maskedBody, count: 1 });
    bump(countries, event.country);
    bump(prefixes, event.prefix);
    bump(keys, event.apiKeyId);
    bump(ips, event.sourceIp);
    bump(agents, event.userAgent);
    for (const domain of event.linkDomains) bump(domains, domain);
    recipients.add(event.recipientKey);
    cost += (pricePerSegment[event.country] ?? pricePerSegment['default'] ?? 0) * event.segments;
  };
  if (buffer) {
    for (let i = 0; i < buffer.size; i++) {
      const event = buffer.events[(buffer.next - 1 - i + 2 * 512) % 512];
      if (event) visit(event);
    }
  } else if (trigger) {
    visit(trigger);
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
