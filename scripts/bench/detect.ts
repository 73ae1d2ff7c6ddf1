/**
 * `pnpm bench:detect` — throughput and memory of packages/detect on one core: the rate-only path,
 * the full path with normalisation and fingerprinting of 160-character bodies, state per active
 * account-level key, and a million idle keys evicted without memory growth. Medians of several runs.
 */
import {
  DetectionEngine,
  detectConfigSchema,
  type NormalizedOutbound,
  normalizeEvent,
} from '@floodgate/detect';
import { RateTracker, TrackerSlab, trackerWords, windowLayout } from '@floodgate/detect/internals';
import type { OutboundMessage } from '@floodgate/schema';
import { describeMachine, median, memoryLatencyNs } from './machine.ts';
import { bodylessOutbound } from './synthetic.ts';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
/**
 * BENCH_ONLY=rate|rate-floor|rate-100|rate-100k|fingerprint|fingerprint-benign|steady|memory|eviction|evidence runs one
 * measurement (for `node --cpu-prof`).
 */
const ONLY = process.env['BENCH_ONLY'];
const wanted = (name: string): boolean => ONLY === undefined || ONLY === name;
const T0 = Date.UTC(2026, 10, 2);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (pnpm bench:detect does)');

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Outbound events over `accounts` accounts at `perSecond` of event time. */
function normalizedStream(count: number, accounts: number, perSecond: number): NormalizedOutbound[] {
  const next = random(42);
  const events: NormalizedOutbound[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const account = Math.floor(next() * next() * accounts);
    events[i] = bodylessOutbound({
      eventId: `e${i}`,
      timeMs: T0 + Math.floor((i * 1000) / perSecond),
      accountId: `acct_${account}`,
      apiKeyId: `key_${account}_${i % 2}`,
      sourceIp: `203.0.${account % 250}.${i % 7}`,
      sourceNetwork: `203.0.${account % 250}.0/24`,
      userAgent: 'acme-sdk/1.0',
      recipientKey: `${(i * 2654435761) >>> 0}`,
      recipientNumeric: 14150000000 + Math.floor(next() * 9_999_999),
      country: account % 5 === 0 ? 'GB' : 'US',
    });
  }
  return events;
}

/**
 * Normalised outbound events with fingerprints, each to a new recipient: every fourth carries a
 * random fingerprint (a template never seen), the rest one of four campaigns' templates.
 */
function fingerprintedStream(count: number, accounts: number, perSecond: number): NormalizedOutbound[] {
  const next = random(11);
  const hex = (): string =>
    Math.floor(next() * 2 ** 32)
      .toString(16)
      .padStart(8, '0');
  const campaigns = [hex() + hex(), hex() + hex(), hex() + hex(), hex() + hex()];
  const events = normalizedStream(count, accounts, perSecond);
  for (let i = 0; i < count; i++) {
    const event = events[i] as NormalizedOutbound;
    event.recipientKey = `r${i}`;
    event.fingerprint = i % 4 === 0 ? hex() + hex() : (campaigns[(i >> 2) % campaigns.length] as string);
    event.maskedBody = 'Your code is <num>';
  }
  return events;
}

const bodies = [
  'Hi {name}, your Acme order {n} has shipped and will arrive on Thursday. Track it at https://acme-shop.com/t/{n} — reply STOP to opt out of delivery updates.',
  'Your Acme verification code is {n}. It expires in 10 minutes. Never share this code with anyone, Acme staff will never ask you for it. Ref {n}-{n}.',
  'USPS: your parcel {n} is held at the depot due to an unpaid fee of USD {amt}. Pay within 24h at https://usps-redeliver-{n}.top/p/{n} to avoid return to sender.',
  '{name}, our winter sale ends tonight! Take {amt}% off everything in store and online with code WIN{n}. Shop now: https://acme-shop.com/s/{n} STOP to end',
];

/**
 * Outbound messages with 160-character bodies from four templates. With `newLureDomains`, the third
 * (a parcel-fee lure) links to a new domain in every message — an attack storm: every fourth
 * message raises or repeats a `new_link_domain` detection. Without, it keeps one domain, as a
 * sender's own traffic does.
 */
function rawStream(
  count: number,
  accounts: number,
  perSecond: number,
  newLureDomains: boolean,
): OutboundMessage[] {
  const next = random(7);
  const names = ['Ana', 'Ben', 'Chen', 'Dara', 'Eve', 'Femi'];
  const events: OutboundMessage[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const account = Math.floor(next() * next() * accounts);
    const template = bodies[i % bodies.length] as string;
    const body = (
      newLureDomains ? template : template.replace('usps-redeliver-{n}.top', 'usps-redeliver.top')
    )
      .replace('{name}', names[i % names.length] as string)
      .replaceAll('{n}', String(Math.floor(next() * 1e6)))
      .replace('{amt}', String(5 + (i % 40)));
    events[i] = {
      type: 'message.outbound',
      schemaVersion: 1,
      eventId: `e${i}`,
      eventTime: T0 + Math.floor((i * 1000) / perSecond),
      accountId: `acct_${account}`,
      apiKeyId: `key_${account}`,
      sourceIp: `203.0.${account % 250}.9`,
      from: 'ACME',
      to: `+1415${String(5_000_000 + Math.floor(next() * 4_999_999))}`,
      channel: 'sms',
      body: body.slice(0, 160),
      segments: 1,
    };
  }
  return events;
}

/**
 * Memory the engine can hold: the JS heap plus ArrayBuffer backing stores (typed arrays of more
 * than a few dozen bytes live outside the heap, so heapUsed alone under-counts state).
 */
function usedBytes(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/**
 * Collects garbage until memory settles: freed ArrayBuffers are released by a background sweeper
 * after GC, so a measurement right after gc() could still count a dropped engine's slab (seen:
 * single runs reading half the bytes per account, or memory "shrinking" by 70 MiB).
 */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  gc?.();
}

async function measure(
  name: string,
  label: string,
  runs: () => number | Promise<number>,
): Promise<{ median: number; min: number; max: number }> {
  if (!wanted(name)) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const values: number[] = [];
  for (let r = 0; r < RUNS; r++) values.push(await runs());
  const result = { median: median(values), min: Math.min(...values), max: Math.max(...values) };
  console.log(
    `${label.padEnd(74)} ${Math.round(result.median).toLocaleString('en-US').padStart(12)}  (min ${Math.round(result.min).toLocaleString('en-US')}, max ${Math.round(result.max).toLocaleString('en-US')}, ${RUNS} runs)`,
  );
  return result;
}

async function main(): Promise<void> {
  console.log(`machine: ${describeMachine()}`);
  // What a cache miss costs here: the paths over 10,000 accounts and more are bound by it (their
  // state is far beyond the caches), so their figures move with it between hosts and hours.
  const latency = {
    inCacheNs: memoryLatencyNs(256 * 2 ** 10),
    beyondCacheNs: memoryLatencyNs(256 * 2 ** 20),
  };
  console.log(
    `memory: ${latency.inCacheNs.toFixed(1)} ns per dependent load within 256 KiB, ${latency.beyondCacheNs.toFixed(0)} ns over 256 MiB (pointer chase, median of 3)`,
  );
  console.log('single thread; events/s unless stated\n');

  /** Events/s of a fresh engine over normalised `events` (the rate-only path). */
  const ratePath = (events: NormalizedOutbound[]) => () => {
    const engine = new DetectionEngine();
    const start = process.hrtime.bigint();
    for (const event of events) engine.process(event);
    return events.length / (Number(process.hrtime.bigint() - start) / 1e9);
  };
  const rateEvents = normalizedStream(1_000_000, 10_000, 2_000);
  const rateOnly = await measure(
    'rate',
    'rate-only path (normalized outbound, 10k accounts)',
    ratePath(rateEvents),
  );

  // The floor of the engine's layout under the same events: per event only what every design keyed
  // by these strings must do — find the account by its id, its API key and country within it — and
  // count the event in those three rate trackers (windows, open minute, the baseline learning each
  // closed minute), with the engine's default windows and slab. No thresholds, signals or evidence.
  const floor = await measure(
    'rate-floor',
    'rate path floor: account lookup + 3 rate trackers counting, nothing else',
    () => {
      const config = detectConfigSchema.parse({});
      const layout = windowLayout(config.windowsMs);
      const halfLife = config.baselineHalfLifeMinutes;
      const slots = config.seasonalitySlots;
      const slab = new TrackerSlab(trackerWords(layout, slots));
      const tracker = () => new RateTracker(layout, halfLife, slots, slab);
      const accounts = new Map<
        string,
        { rate: RateTracker; keys: Map<string, RateTracker>; countries: Map<string, RateTracker> }
      >();
      const start = process.hrtime.bigint();
      for (const event of rateEvents) {
        let account = accounts.get(event.accountId);
        if (account === undefined) {
          account = { rate: tracker(), keys: new Map(), countries: new Map() };
          accounts.set(event.accountId, account);
        }
        account.rate.add(event.timeMs);
        let key = account.keys.get(event.apiKeyId);
        if (key === undefined) {
          key = tracker();
          account.keys.set(event.apiKeyId, key);
        }
        key.add(event.timeMs);
        let country = account.countries.get(event.country);
        if (country === undefined) {
          country = tracker();
          account.countries.set(event.country, country);
        }
        country.add(event.timeMs);
      }
      return rateEvents.length / (Number(process.hrtime.bigint() - start) / 1e9);
    },
  );

  // The same path with the same traffic per account as above (0.2 events/s each, so every key closes
  // about as many minutes and buckets per event) over 100 and 100,000 accounts: what differs is how much state
  // the events touch. 100 accounts hold 400 rate-tracked keys, which stay in the core's cache; 100,000
  // hold ~350,000 keys in ~280 MB, as a production detector does. (Not all else is equal: the 100,000
  // accounts are all young in the 50 s of event time, and raise ~12,000 detections to 100's 18.)
  const rateSmall = await measure(
    'rate-100',
    'rate-only path, 100 accounts at 0.2 events/s each (state in cache)',
    ratePath(wanted('rate-100') ? normalizedStream(1_000_000, 100, 20) : []),
  );
  const rateLarge = await measure(
    'rate-100k',
    'rate-only path, 100,000 accounts at 0.2 events/s each (state far beyond cache)',
    ratePath(wanted('rate-100k') ? normalizedStream(1_000_000, 100_000, 20_000) : []),
  );

  const fingerprintPath = (raw: OutboundMessage[]) => () => {
    const engine = new DetectionEngine();
    const options = { hmacKey: 'bench-key' };
    const start = process.hrtime.bigint();
    for (const event of raw) engine.process(normalizeEvent(event, options));
    return raw.length / (Number(process.hrtime.bigint() - start) / 1e9);
  };
  const withFingerprints = await measure(
    'fingerprint',
    'normalize + fingerprint 160-char bodies + detect (attack storm)',
    fingerprintPath(wanted('fingerprint') ? rawStream(200_000, 10_000, 2_000, true) : []),
  );
  const withFingerprintsBenign = await measure(
    'fingerprint-benign',
    "normalize + fingerprint 160-char bodies + detect (senders' own links)",
    fingerprintPath(wanted('fingerprint-benign') ? rawStream(200_000, 10_000, 2_000, false) : []),
  );

  // The engine at its caps: every recipient new (the recipient attributions fill up at 200,000) and
  // every fourth message a template never seen (the near-duplicate index fills up at 200,000), the
  // rest from four running campaigns. Measured over the events after both are full, where a bounded
  // map that costs O(size) per eviction or touch would show (it did: see bench/NOTES.md, "The engine at its caps").
  const steadyEvents = wanted('steady') ? fingerprintedStream(1_200_000, 10_000, 2_000) : [];
  const steady = await measure(
    'steady',
    'engine at its caps: new recipients, 1 in 4 templates new (last 400k of 1.2M)',
    () => {
      const engine = new DetectionEngine();
      const measured = 400_000;
      const warm = steadyEvents.length - measured;
      for (let i = 0; i < warm; i++) engine.process(steadyEvents[i] as NormalizedOutbound);
      const start = process.hrtime.bigint();
      for (let i = warm; i < steadyEvents.length; i++) engine.process(steadyEvents[i] as NormalizedOutbound);
      return measured / (Number(process.hrtime.bigint() - start) / 1e9);
    },
  );

  // Memory per active account-level key: 50k accounts each with one key and one country (the key
  // and country are set per account: reusing the stream's would give each account ~4 keys).
  // The previous run's engine stays alive until this run is measured: freed ArrayBuffers are
  // released by a background sweeper after GC, so a just-dropped engine's slab could still be in
  // `before` and make runs read ~25 % low at random (seen: 3.4 k vs 4.7 k bytes per account).
  const alive: DetectionEngine[] = [];
  /** Bytes per account of 50k accounts with one key and country; with `receipts`, each message also gets a delivery receipt. */
  const perAccount = (receipts: boolean) => async () => {
    await settle();
    const before = usedBytes();
    const engine = new DetectionEngine();
    const accounts = 50_000;
    for (let i = 0; i < accounts * 4; i++) {
      const event = rateEvents[i % rateEvents.length] as NormalizedOutbound;
      const account = i % accounts;
      const country = account % 5 === 0 ? 'GB' : 'US';
      engine.process({
        ...event,
        accountId: `m${account}`,
        apiKeyId: `mk${account}`,
        country,
        timeMs: T0 + i,
      });
      if (receipts)
        engine.process({
          kind: 'status',
          eventId: `s${i}`,
          timeMs: T0 + i,
          accountId: `m${account}`,
          messageId: `msg${i}`,
          status: 'delivered',
          errorCode: '',
          errorCategory: '',
          country,
        });
    }
    await settle();
    const bytes = (usedBytes() - before) / accounts;
    if (engine.stats().accounts !== accounts) throw new Error('accounts were evicted during the measurement');
    alive.splice(0, alive.length, engine);
    return bytes;
  };
  const perKey = await measure(
    'memory',
    'bytes of state per active account (account+key+country, heap+ArrayBuffers)',
    perAccount(false),
  );
  const perKeyReceipts = await measure(
    'memory',
    'the same with a delivery receipt per message (bytes per account)',
    perAccount(true),
  );
  if (wanted('memory'))
    console.log(
      `    = ${Math.round(perKey.median / 3).toLocaleString('en-US')} bytes per account-level key (account, API key, country)`,
    );

  const eviction = await measure(
    'eviction',
    'memory growth after 1M idle-then-evicted accounts (MiB)',
    async () => {
      const engine = new DetectionEngine({ config: { accountIdleTtlMs: 60_000, keyIdleTtlMs: 60_000 } });
      const event = rateEvents[0] as NormalizedOutbound;
      await settle();
      const before = usedBytes();
      let peak = 0;
      for (let i = 0; i < 1_000_000; i++) {
        engine.process({ ...event, accountId: `idle${i}`, timeMs: T0 + i * 10 });
        if (i % 100_000 === 0) peak = Math.max(peak, engine.stats().accounts);
      }
      await settle();
      const growth = (usedBytes() - before) / 2 ** 20;
      console.log(
        `    live accounts at the end: ${engine.stats().accounts}, peak sampled: ${peak}, evicted: ${engine.stats().evictedAccounts}`,
      );
      return growth;
    },
  );

  // Evidence rings at their cap: busy accounts (≥ 20 messages a minute each) sending 160-character
  // bodies, the events JSON-parsed one by one as the detector reads them from Kafka (so no two share
  // a string). 1,900 accounts stay under the engine's cap of rings and fill theirs; 3,000 are above
  // it. Reports the engine's memory and, from its snapshot, how many rings it holds and how full.
  const evidenceAt = (busy: number) => async () => {
    const next = random(11);
    const serialized: string[] = [];
    for (let i = 0; i < 4_000; i++) {
      const template = bodies[i % bodies.length] as string;
      const body = template
        .replace('usps-redeliver-{n}.top', 'usps-redeliver.top')
        .replace('{name}', 'Ana')
        .replaceAll('{n}', String(Math.floor(next() * 1e6)))
        .replace('{amt}', String(5 + (i % 40)))
        .slice(0, 160);
      const event = normalizeEvent(
        {
          type: 'message.outbound',
          schemaVersion: 1,
          eventId: '00000000-0000-4000-8000-000000000000',
          eventTime: T0,
          accountId: 'acct',
          apiKeyId: 'key',
          sourceIp: '203.0.113.9',
          userAgent: 'acme-sdk/4.2.1 (python 3.12)',
          from: 'ACME',
          to: `+1415${String(5_000_000 + Math.floor(next() * 4_999_999))}`,
          channel: 'sms',
          body,
          segments: 1,
        },
        { hmacKey: 'bench-key' },
      );
      serialized.push(JSON.stringify(event));
    }
    await settle();
    const before = usedBytes();
    const engine = new DetectionEngine();
    const rounds = 600;
    let i = 0;
    for (let round = 0; round < rounds; round++)
      for (let account = 0; account < busy; account++, i++) {
        const event = JSON.parse(serialized[i % serialized.length] as string) as NormalizedOutbound;
        event.accountId = `busy${account}`;
        event.apiKeyId = `key${account}`;
        event.eventId = `e${i}`;
        // 30 messages a minute per account.
        event.timeMs = T0 + Math.floor((i * 2_000) / busy);
        engine.process(event);
      }
    await settle();
    const mib = (usedBytes() - before) / 2 ** 20;
    const rings = engine.snapshot().evidence.map((ring) => ring.size);
    // What a checkpoint of this state writes (before compression), and how long the lines take.
    const start = process.hrtime.bigint();
    let snapshotChars = 0;
    for (const line of engine.snapshotLines()) snapshotChars += line.length;
    const snapshotMs = Number(process.hrtime.bigint() - start) / 1e6;
    console.log(
      `    ${busy.toLocaleString('en-US')} busy accounts: ${rings.length.toLocaleString('en-US')} evidence rings, median ${median(rings)} messages each, ${Math.round(mib)} MiB; snapshot ${Math.round(snapshotChars / 2 ** 20)} MiB of JSON lines in ${Math.round(snapshotMs)} ms`,
    );
    return mib;
  };
  const evidenceUnderCap = await measure(
    'evidence',
    'engine memory, 1,900 busy accounts with 160-char bodies (MiB)',
    evidenceAt(1_900),
  );
  const evidenceOverCap = await measure(
    'evidence',
    'engine memory, 3,000 busy accounts with 160-char bodies (MiB)',
    evidenceAt(3_000),
  );

  console.log(
    '\ntargets: rate-only ≥ 1,000,000/s; fingerprint path ≥ 250,000/s; ≤ 1 KiB per active account-level key; no growth with 1M idle keys',
  );
  console.log(
    JSON.stringify({
      machine: describeMachine(),
      memoryLatency: latency,
      rateOnly,
      rateFloor: floor,
      rateOnly100Accounts: rateSmall,
      rateOnly100kAccounts: rateLarge,
      withFingerprints,
      withFingerprintsBenign,
      steadyAtCaps: steady,
      bytesPerAccount: perKey,
      bytesPerAccountWithReceipts: perKeyReceipts,
      evictionGrowthMiB: eviction,
      evidenceMiB1900Busy: evidenceUnderCap,
      evidenceMiB3000Busy: evidenceOverCap,
    }),
  );
}

await main();
