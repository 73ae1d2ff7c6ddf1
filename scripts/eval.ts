/**
 * `pnpm eval` — runs simulated traffic with every labelled scenario through the same normalisation
 * and detection path the pipeline uses, and prints per scenario and overall: recall, precision,
 * time-to-detect (event time), messages sent before the first detection, and false detections per
 * 100 account-days of benign traffic. "Page severity" is `critical`; recall and precision count
 * detections at `warning` or above. Options: --seed N --days D --accounts N --json FILE.
 */
import { writeFileSync } from 'node:fs';
import {
  CrossAccountStage,
  type Detection,
  DetectionEngine,
  deleteOldest,
  type NormalizedEvent,
  normalizeEvent,
  sampleErrorCodeCategories,
} from '@floodgate/detect';
import { prepareSimulation, type ScenarioLabel } from '@floodgate/simulator';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(String(process.argv[i]).replace(/^--/, ''), String(process.argv[i + 1]));
const seed = Number(args.get('seed') ?? 20261125);
const days = Number(args.get('days') ?? 3);
const accountCount = Number(args.get('accounts') ?? 300);
const startMs = Date.UTC(2026, 9, 5, 0, 0, 0);
const durationMs = days * 86_400_000;
/**
 * A detection this long after a scenario's end still belongs to it: replies and statuses trail the
 * sends, and the 1-hour window stays elevated for an hour after a burst.
 */
const GRACE_MS = 75 * 60_000;
const rank = { info: 0, warning: 1, critical: 2 } as const;

const started = performance.now();
const simulation = prepareSimulation({ seed, startMs, durationMs, accounts: accountCount });
const engine = new DetectionEngine({ inventory: simulation.inventory });
const crossAccount = new CrossAccountStage();
const countryOfMessage = new Map<string, string>();
const normalizeOptions = {
  hmacKey: 'eval-hmac-key',
  errorCodeCategories: sampleErrorCodeCategories,
  countryOfMessage: (id: string) => countryOfMessage.get(id),
};

const detections: Detection[] = [];
const outboundTimesByAccount = new Map<string, number[]>();
const outboundTimesByKey = new Map<string, number[]>();
let events = 0;
for (const raw of simulation.events()) {
  events++;
  const event: NormalizedEvent = normalizeEvent(raw, normalizeOptions);
  if (event.kind === 'outbound') {
    if (countryOfMessage.size > 500_000) deleteOldest(countryOfMessage);
    countryOfMessage.set(event.eventId, event.country);
    let times = outboundTimesByAccount.get(event.accountId);
    if (!times) {
      times = [];
      outboundTimesByAccount.set(event.accountId, times);
    }
    times.push(event.timeMs);
    let keyTimes = outboundTimesByKey.get(event.apiKeyId);
    if (!keyTimes) {
      keyTimes = [];
      outboundTimesByKey.set(event.apiKeyId, keyTimes);
    }
    keyTimes.push(event.timeMs);
  }
  for (const detection of engine.process(event)) detections.push(detection);
  for (const observation of engine.drainObservations()) detections.push(...crossAccount.process(observation));
}
const elapsedS = (performance.now() - started) / 1000;

function accountsOf(detection: Detection): string[] {
  return detection.evidence.accountIds ?? [detection.accountId];
}

function matches(detection: Detection, label: ScenarioLabel): boolean {
  const t = detection.detectedAtMs;
  return (
    t >= label.startMs &&
    t <= label.endMs + GRACE_MS &&
    accountsOf(detection).some((a) => label.accountIds.includes(a))
  );
}

function countBetween(times: number[] | undefined, from: number, to: number): number {
  if (!times) return 0;
  let n = 0;
  for (const t of times) if (t >= from && t <= to) n++;
  return n;
}

interface ScenarioResult {
  scenario: string;
  accounts: number;
  mustDetect: boolean;
  detected: boolean;
  pageSeverityDetections: number;
  firstKind: string;
  timeToDetectS: number | null;
  messagesBeforeDetection: number | null;
  kinds: string[];
}

const claimed = new Set<Detection>();
const results: ScenarioResult[] = simulation.labels.map((label) => {
  const hits = detections.filter((d) => matches(d, label));
  for (const d of hits) claimed.add(d);
  const relevant = hits
    .filter((d) => rank[d.severity] >= rank.warning)
    .sort((a, b) => a.detectedAtMs - b.detectedAtMs);
  const first = relevant[0];
  // The attack's traffic starts with the first message on its keys after the label starts (a
  // takeover's label starts at the failed logins, minutes before anything is sent).
  const keyTimes = label.apiKeyIds.map((k) => outboundTimesByKey.get(k) ?? []);
  const firstSends = keyTimes.map(
    (times) => times.find((t) => t >= label.startMs) ?? Number.POSITIVE_INFINITY,
  );
  const trafficStartMs = label.trafficStartMs ?? Math.min(...firstSends, label.endMs);
  let before: number | null = null;
  if (first) {
    before =
      label.apiKeyIds.length > 0
        ? keyTimes.reduce((n, times) => n + countBetween(times, trafficStartMs, first.detectedAtMs), 0)
        : label.accountIds.reduce(
            (n, a) => n + countBetween(outboundTimesByAccount.get(a), trafficStartMs, first.detectedAtMs),
            0,
          );
  }
  return {
    scenario: label.scenario,
    accounts: label.accountIds.length,
    mustDetect: label.mustDetect,
    detected: first !== undefined,
    pageSeverityDetections: hits.filter((d) => d.severity === 'critical').length,
    firstKind: first?.kind ?? '',
    timeToDetectS: first
      ? Math.round((first.detectedAtMs - Math.min(trafficStartMs, first.detectedAtMs)) / 100) / 10
      : null,
    messagesBeforeDetection: before,
    kinds: [...new Set(relevant.map((d) => `${d.kind}:${d.severity}`))].sort(),
  };
});

// Benign = every detection that matched no scenario label (including the legit blast's label).
const unmatched = detections.filter((d) => !claimed.has(d));
const falseWarnings = unmatched.filter((d) => rank[d.severity] >= rank.warning);
const falsePages = unmatched.filter((d) => d.severity === 'critical');
const blastLabels = simulation.labels.filter((l) => !l.mustDetect);
const blastPages = detections.filter(
  (d) => d.severity === 'critical' && blastLabels.some((l) => matches(d, l)),
);
const attackDetections = detections.filter(
  (d) => rank[d.severity] >= rank.warning && simulation.labels.some((l) => l.mustDetect && matches(d, l)),
);
const precision =
  attackDetections.length / Math.max(1, attackDetections.length + falseWarnings.length + blastPages.length);
const accountDays = (accountCount * durationMs) / 86_400_000;
const mustDetect = results.filter((r) => r.mustDetect);
const recall = mustDetect.filter((r) => r.detected).length / Math.max(1, mustDetect.length);

console.log(
  `Floodgate detection quality — seed ${seed}, ${accountCount} accounts, ${days} days, ${events.toLocaleString('en-US')} events in ${elapsedS.toFixed(1)} s\n`,
);
console.log(
  'scenario                 detected  TTD (s)  msgs before  first kind              pages  kinds (≥ warning)',
);
for (const r of results) {
  console.log(
    `${r.scenario.padEnd(24)} ${(r.mustDetect ? (r.detected ? 'yes' : 'NO') : r.pageSeverityDetections > 0 ? 'PAGED' : 'no page').padEnd(9)} ${String(r.timeToDetectS ?? '-').padStart(7)}  ${String(r.messagesBeforeDetection ?? '-').padStart(11)}  ${r.firstKind.padEnd(22)} ${String(r.pageSeverityDetections).padStart(5)}  ${r.kinds.join(', ')}`,
  );
}
console.log(`\nrecall (must-detect scenarios): ${recall.toFixed(2)}`);
console.log(
  `precision (detections ≥ warning attributable to an attack): ${precision.toFixed(3)}  (${attackDetections.length} attack, ${falseWarnings.length} benign, ${blastPages.length} pages on the legit blast)`,
);
console.log(
  `false page-severity detections per 100 account-days: ${((falsePages.length / accountDays) * 100).toFixed(2)}  (${falsePages.length} over ${accountDays} account-days)`,
);
console.log(
  `false detections ≥ warning per 100 account-days: ${((falseWarnings.length / accountDays) * 100).toFixed(2)}`,
);
const byKind = new Map<string, number>();
for (const d of falseWarnings)
  byKind.set(`${d.kind}:${d.severity}`, (byKind.get(`${d.kind}:${d.severity}`) ?? 0) + 1);
if (byKind.size > 0)
  console.log(`benign detections by kind: ${[...byKind].map(([k, n]) => `${k}=${n}`).join(', ')}`);
if (args.get('verbose') === '1') {
  for (const l of simulation.labels)
    console.log(
      `  label: ${l.scenario} ${l.accountIds.join(',')} keys=${l.apiKeyIds.join(',')} ${new Date(l.startMs).toISOString()} → ${new Date(l.endMs).toISOString()}`,
    );
}
if (args.get('verbose') === '1')
  for (const d of falsePages.slice(0, 30))
    console.log(
      `  benign page: ${d.accountId} ${d.kind} ${d.key} ${new Date(d.detectedAtMs).toISOString()}: ${d.evidence.reason}`,
    );
if (args.get('verbose') === '1')
  for (const d of falseWarnings
    .filter((_, i) => i % Math.max(1, Math.floor(falseWarnings.length / 25)) === 0)
    .slice(0, 25))
    console.log(`  benign: ${d.accountId} ${d.kind} ${d.key} ${d.severity}: ${d.evidence.reason}`);
console.log(
  '\ntargets: recall 1.0 on (a)-(d),(f),(g); no page on (e); precision ≥ 0.95; ≤ 1 false page per 100 account-days; TTD ≤ 120 s for (a)-(c); < 500 messages before detection for (b)',
);
const json = args.get('json');
if (json)
  writeFileSync(
    json,
    JSON.stringify(
      {
        seed,
        days,
        accounts: accountCount,
        events,
        results,
        recall,
        precision,
        falsePages: falsePages.length,
        falseWarnings: falseWarnings.length,
        accountDays,
      },
      null,
      2,
    ),
  );
