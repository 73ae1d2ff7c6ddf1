import { describe, expect, it } from 'vitest';
import type { DetectConfigInput } from '../config.ts';
import { type Detection, detectionId } from '../detection.ts';
import type { NormalizedEvent } from '../normalized-event.ts';
import { userAgentProduct } from '../signals/credential.ts';
import { DetectionEngine } from './engine.ts';
import { audit, merge, outbound, prng, pumpingBurst, steadyTraffic } from './test-traffic.ts';

const HOUR = 3_600_000;
const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 2, 0, 0, 0);

function run(engine: DetectionEngine, events: NormalizedEvent[]): Detection[] {
  const found: Detection[] = [];
  for (const event of events) found.push(...engine.process(event));
  return found;
}

function kinds(detections: Detection[], minSeverity: 'info' | 'warning' | 'critical' = 'warning'): string[] {
  const rank = { info: 0, warning: 1, critical: 2 };
  return [
    ...new Set(detections.filter((d) => rank[d.severity] >= rank[minSeverity]).map((d) => d.kind)),
  ].sort();
}

/** 30 hours of steady benign traffic: long enough for baselines and a day of seasonality. */
const history = steadyTraffic(T0, T0 + 30 * HOUR, 6, 7);
const attackStart = T0 + 30 * HOUR + 37 * MIN;

describe('DetectionEngine on benign traffic', () => {
  it('raises nothing at warning or above on a day of steady traffic', () => {
    const engine = new DetectionEngine();
    const detections = run(engine, history);
    expect(kinds(detections), JSON.stringify(detections.slice(0, 2).map((d) => d.evidence.reason))).toEqual(
      [],
    );
    expect(engine.stats().processed).toBe(history.length);
  });
});

describe('volume_spike', () => {
  it('fires when an account sends far above its baseline, with evidence and messages-before-detection', () => {
    const engine = new DetectionEngine();
    run(engine, history);
    const burst = Array.from({ length: 600 }, (_, i) => outbound({ timeMs: attackStart + i * 100 }));
    const detections = run(engine, burst);
    const spike = detections.find((d) => d.kind === 'volume_spike' && d.key === 'account');
    expect(spike, `kinds: ${kinds(detections, 'info')}`).toBeDefined();
    expect(spike?.observed).toBeGreaterThan(spike?.expected ?? Infinity);
    expect(spike?.evidence.messagesBeforeDetection).toBeGreaterThan(0);
    expect(spike?.evidence.messagesBeforeDetection).toBeLessThan(200);
    expect(spike?.evidence.topTemplates[0]?.sample).toBe('Your Acme code is <num>');
    expect(spike?.evidence.estimatedCostUsd).toBeGreaterThan(0);
  });

  it('records an uncorroborated burst (usual key, network, content, country) at info; from a new network it is a warning or more', () => {
    // 250 messages in 50 s against 6/min: 40x, far over every threshold, but below the extreme bar.
    const burst = (network: string) =>
      Array.from({ length: 250 }, (_, i) =>
        outbound({
          timeMs: attackStart + i * 200,
          sourceNetwork: network,
          sourceIp: network.replace('0/24', '9'),
        }),
      );
    const usual = new DetectionEngine();
    run(usual, history);
    const quiet = run(usual, burst('203.0.113.0/24'));
    expect(quiet.some((d) => d.kind === 'volume_spike' && d.severity === 'info')).toBe(true);
    expect(kinds(quiet), JSON.stringify(quiet.map((d) => [d.kind, d.severity]))).toEqual([]);

    const novel = new DetectionEngine();
    run(novel, history);
    const found = run(novel, burst('198.51.100.0/24'));
    const spike = found.find((d) => d.kind === 'volume_spike' && d.severity !== 'info');
    expect(spike, JSON.stringify(found.map((d) => [d.kind, d.severity]))).toBeDefined();
    expect(spike?.evidence.reason).toMatch(/new/);
  });

  it('pages a sustained burst extreme over 5 minutes though its 1-minute window is over too', () => {
    const engine = new DetectionEngine();
    run(engine, steadyTraffic(T0, T0 + 26 * HOUR, 1, 1));
    // 150 a minute from an account that sends 1: 750 in 5 minutes, 150 times its expectation and
    // over 10× the 5-minute floor; each minute alone stays under 10× the 1-minute floor.
    const burst = steadyTraffic(T0 + 26 * HOUR, T0 + 26 * HOUR + 40 * MIN, 150, 2);
    const spikes = run(engine, burst).filter((d) => d.kind === 'volume_spike' && d.key === 'account');
    // Only the first window over its threshold was judged: every spike was an info on 1 minute.
    expect(spikes.some((d) => d.severity === 'critical' && d.windowEndMs - d.windowStartMs === 5 * MIN)).toBe(
      true,
    );
  });

  it('does not fire on three messages from a brand-new account', () => {
    const engine = new DetectionEngine();
    const detections = run(
      engine,
      [0, 1, 2].map((i) => outbound({ timeMs: T0 + i, accountId: 'acct_new' })),
    );
    expect(detections).toEqual([]);
  });
});

describe('destination_anomaly', () => {
  it('fires on sequential numbers to a country the account never served, within a few dozen messages', () => {
    const engine = new DetectionEngine();
    run(engine, history);
    const pumping = pumpingBurst(attackStart);
    const detections: Detection[] = [];
    let before = -1;
    pumping.forEach((event, i) => {
      const found = engine.process(event);
      if (before < 0 && found.some((d) => d.kind === 'destination_anomaly')) before = i + 1;
      detections.push(...found);
    });
    const hit = detections.find((d) => d.kind === 'destination_anomaly');
    expect(hit?.severity).toBe('critical');
    expect(before, 'messages sent before detection').toBeGreaterThan(0);
    expect(before).toBeLessThan(60);
    expect(hit?.evidence.topCountries[0]).toMatchObject({ value: 'TJ', isNew: true });
  });

  it('explains a burst to a rare country by the share it had before the burst, not after', () => {
    const engine = new DetectionEngine();
    run(engine, history);
    const burst = Array.from({ length: 200 }, (_, i) =>
      outbound({
        timeMs: attackStart + i * 20,
        country: 'TJ',
        prefix: '+992935',
        recipientNumeric: 992935000100 + i * 100_003,
        recipientKey: `r${i}`,
      }),
    );
    const reasons = run(engine, burst)
      .filter((d) => d.kind === 'destination_anomaly')
      .map((d) => d.evidence.reason);
    expect(reasons.length).toBeGreaterThan(0);
    expect(reasons.join(' | ')).toMatch(
      /to TJ, a country below [0-9.]+% of the account's traffic before this burst/,
    );
  });

  it('fires on a burst to a country used during warm-up and silent for two days since', () => {
    const burstTo = (primer: boolean) => {
      const engine = new DetectionEngine();
      const us = steadyTraffic(T0, T0 + 50 * HOUR - 8 * MIN, 30, 1);
      const tj = steadyTraffic(T0, T0 + 2 * HOUR, 6, 2).map((e) => ({
        ...e,
        country: 'TJ',
        prefix: '+992935',
      }));
      run(engine, merge(us, tj));
      const start = T0 + 50 * HOUR + 10_000;
      const tjOutbound = (timeMs: number, i: number) =>
        outbound({
          timeMs,
          country: 'TJ',
          prefix: '+992935',
          recipientKey: `b${i}`,
          recipientNumeric: 992_935_000_000 + ((i * 7_919_123) % 999_999_999),
        });
      const before = primer ? [tjOutbound(start - 6 * MIN, -1)] : [];
      const burst = Array.from({ length: 150 }, (_, i) => tjOutbound(start + i * 800, i));
      return run(engine, merge(before, steadyTraffic(start - 8 * MIN, start + 2 * MIN, 30, 3), burst)).filter(
        (d) => d.kind === 'destination_anomaly' && d.key === 'country:TJ',
      ).length;
    };
    // It fired only when one stray message six minutes before had made the tracker learn the gap.
    expect(burstTo(true)).toBeGreaterThan(0);
    expect(burstTo(false)).toBeGreaterThan(0);
  });

  /** `perMinute` messages on average to random TJ numbers over [startMs, endMs). */
  function trickleToTj(startMs: number, endMs: number, perMinute: number, seed = 3): NormalizedEvent[] {
    const random = prng(seed);
    const events: NormalizedEvent[] = [];
    for (let t = startMs, i = 0; ; i++) {
      t += Math.max(1, Math.round((-Math.log(1 - random()) * MIN) / perMinute));
      if (t >= endMs) return events;
      events.push(
        outbound({
          timeMs: t,
          country: 'TJ',
          prefix: '+992935',
          recipientKey: `t${i}`,
          recipientNumeric: 992_935_000_000 + Math.floor(random() * 999_999),
        }),
      );
    }
  }

  it('fires on pumping at a modest rate for hours to a country the account never served, in its first hour', () => {
    // 2 a minute to random numbers, under every 5-minute bar: 480 messages in 4 hours were missed.
    const start = T0 + 30 * HOUR;
    const engine = new DetectionEngine();
    run(engine, steadyTraffic(T0, start, 10, 7));
    const found = run(
      engine,
      merge(steadyTraffic(start, start + 8 * HOUR, 10, 8), trickleToTj(start, start + 8 * HOUR, 2)),
    ).filter((d) => d.kind === 'destination_anomaly' && d.key === 'country:TJ');
    const first = found[0] as Detection;
    expect(first).toBeDefined();
    expect(first.severity).toBe('warning');
    expect(first.windowEndMs - first.windowStartMs).toBe(HOUR);
    expect(first.evidence.reason).toMatch(/^\d+ messages in 60m to TJ/);
    expect(first.windowEndMs).toBeLessThan(start + HOUR);
    // A run that goes on is the account's own destination after two hours: no warnings for good.
    expect(Math.max(...found.map((d) => d.windowEndMs))).toBeLessThanOrEqual(start + 2 * HOUR + MIN);
  });

  it('learns a small batch the account sends to a country every morning, instead of warning every day', () => {
    const random = prng(5);
    const batches: NormalizedEvent[] = [];
    for (let day = 0; day < 5; day++)
      for (let i = 0; i < 40; i++)
        batches.push(
          outbound({
            timeMs: T0 + day * 24 * HOUR + 9 * HOUR + Math.floor(random() * HOUR),
            country: 'DE',
            prefix: '+49151',
            recipientKey: `de${day}-${i}`,
            recipientNumeric: 491_510_000_000 + Math.floor(random() * 9_999_999),
          }),
        );
    const engine = new DetectionEngine();
    const found = run(engine, merge(steadyTraffic(T0, T0 + 5 * 24 * HOUR, 10, 7), batches)).filter(
      (d) => d.kind === 'destination_anomaly',
    );
    // The first mornings are news; from the third the country's own morning is expected (it warned
    // on every one of them, judged only by its share of the account).
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((d) => d.detectedAtMs < T0 + 2 * 24 * HOUR)).toBe(true);
  });

  it('stays quiet for the same trickle from a big sender, whose rare countries carry as much', () => {
    // 2 a minute beside 300: a rare country (0.5 %) of this account carries 1.5 a minute.
    const start = T0 + 30 * HOUR;
    const engine = new DetectionEngine();
    run(engine, steadyTraffic(T0 + 22 * HOUR, start, 300, 7));
    const found = run(
      engine,
      merge(steadyTraffic(start, start + 2 * HOUR, 300, 8), trickleToTj(start, start + 2 * HOUR, 2)),
    ).filter((d) => d.kind === 'destination_anomaly');
    expect(found).toEqual([]);
  });

  it('stays quiet for a few messages to a new country (a traveller)', () => {
    const engine = new DetectionEngine();
    run(engine, history);
    const travel = [0, 1, 2].map((i) =>
      outbound({
        timeMs: attackStart + i * 30_000,
        country: 'FR',
        prefix: '+336123',
        recipientNumeric: 33612345678,
      }),
    );
    expect(kinds(run(engine, travel))).toEqual([]);
  });
});

describe('content_burst and new_link_domain', () => {
  it('fire for a new template with a new link domain reaching many recipients, critical when corroborated', () => {
    const engine = new DetectionEngine();
    run(engine, history);
    const phishing = Array.from({ length: 300 }, (_, i) =>
      outbound({
        timeMs: attackStart + i * 200,
        fingerprint: 'ffee0011ffee0011',
        template: 'usps: your parcel is held, pay at <url:usps-fee.top>',
        maskedBody: 'USPS: your parcel is held, pay at https://usps-fee.top/<path>',
        linkDomains: ['usps-fee.top'],
        recipientKey: `v${i}`,
      }),
    );
    const detections = run(engine, phishing);
    expect(kinds(detections)).toEqual(expect.arrayContaining(['content_burst', 'new_link_domain']));
    const burst = detections.find((d) => d.kind === 'content_burst');
    expect(burst?.severity).toBe('critical');
    expect(burst?.evidence.linkDomains[0]).toMatchObject({ value: 'usps-fee.top', isNew: true });
  });

  it("describes a slow template's whole first hour, over which it counted its recipients", () => {
    // One recipient every 15 s: 40 distinct after 10 minutes, 20 of them in the last 5. The account
    // is busy enough (25 a minute) to keep an evidence ring.
    const engine = new DetectionEngine();
    const start = T0 + 30 * HOUR;
    run(engine, steadyTraffic(T0, start, 25, 7));
    const slow = Array.from({ length: 60 }, (_, i) =>
      outbound({
        timeMs: start + i * 15_000,
        fingerprint: 'ffee0011ffee0022',
        maskedBody: 'Claim your refund of <amount> now',
        recipientKey: `slow-recipient-${i}`,
      }),
    );
    const burst = run(engine, merge(steadyTraffic(start, start + 20 * MIN, 25, 8), slow)).find(
      (d) => d.kind === 'content_burst',
    ) as Detection;
    expect(burst).toBeDefined();
    expect(burst.observed).toBeGreaterThanOrEqual(40);
    expect(burst.windowEndMs - burst.windowStartMs).toBe(HOUR);
    // Its evidence is of the same messages: all of them since the template's first, not the last
    // 5 minutes' (20).
    expect(burst.evidence.distinctRecipients).toBeGreaterThanOrEqual(38);
    expect(burst.evidence.topTemplates[0]?.count).toBeGreaterThanOrEqual(38);
    expect(burst.evidence.anomalyStartMs).toBe(start);
  });
});

describe('an account remembers its templates and link domains', () => {
  const campaign = (startMs: number, tag: string) =>
    Array.from({ length: 300 }, (_, i) =>
      outbound({
        timeMs: startMs + i * 1_000,
        fingerprint: '5a5a00ff5a5a00ff',
        template: 'acme daily digest: <num> new offers',
        maskedBody: 'Acme daily digest: <num> new offers',
        recipientKey: `${tag}${i}`,
      }),
    );

  it('does not call a template new again when the account sends it the next day (also across a snapshot)', () => {
    const engine = new DetectionEngine();
    const dayOne = run(engine, merge(history, campaign(attackStart, 'd1-')));
    expect(
      dayOne.filter((d) => d.kind === 'content_burst').length,
      'the first launch is reported',
    ).toBeGreaterThan(0);
    // A day of the usual traffic: the campaign's cluster idles past the key TTL and is dropped.
    const dayTwoStart = attackStart + 24 * HOUR;
    run(engine, steadyTraffic(attackStart + 10 * MIN, dayTwoStart, 6, 11));
    const known = engine.snapshot().accounts[0]?.knownClusters ?? [];
    expect(
      known.map(([id]) => id),
      'the idle cluster is remembered, not tracked',
    ).toContain('5a5a00ff5a5a00ff');

    const restored = DetectionEngine.restore(JSON.parse(JSON.stringify(engine.snapshot())));
    for (const target of [engine, restored]) {
      const dayTwo = run(target, campaign(dayTwoStart, 'd2-'));
      expect(
        dayTwo.filter((d) => d.kind === 'content_burst').map((d) => d.evidence.reason),
        'the same template the next day is not new',
      ).toEqual([]);
    }
  });

  it('calls a link domain adopted after warm-up new only while it is young', () => {
    const engine = new DetectionEngine();
    run(engine, history);
    // The account starts linking a new domain and keeps doing so, 25 messages per 5 minutes, for 4 hours.
    const start = attackStart;
    const newsletter = Array.from({ length: 4 * 60 * 5 }, (_, i) =>
      outbound({
        timeMs: start + i * 12_000 + 500,
        fingerprint: '0f0f0f0f12345678',
        template: 'acme news: <url:acme-news.example>',
        maskedBody: 'Acme news: https://acme-news.example/<path>',
        linkDomains: ['acme-news.example'],
        recipientKey: `n${i}`,
      }),
    );
    const events = merge(newsletter, steadyTraffic(start, start + 4 * HOUR, 6, 12));
    const found = run(engine, events).filter((d) => d.kind === 'new_link_domain');
    expect(found.length, 'the new domain is reported').toBeGreaterThan(0);
    const maxAge = 60 * MIN;
    expect(
      found
        .filter((d) => d.detectedAtMs - start > maxAge + MIN)
        .map((d) => new Date(d.detectedAtMs).toISOString()),
      'no report once the domain has been in use for longer than newClusterMaxAgeMs',
    ).toEqual([]);
  });
});

describe('opt_out_spike', () => {
  /** Recipient `recipientKey` of acct_a replying STOP at `timeMs`. */
  const stop = (i: number, recipientKey: string, timeMs: number): NormalizedEvent => ({
    kind: 'inbound',
    eventId: `stop${i}`,
    timeMs,
    accountId: 'acct_a',
    recipientKey,
    country: 'US',
    classification: 'opt_out',
  });

  it('fires when many recipients of a campaign reply STOP, attributing them to its template', () => {
    const engine = new DetectionEngine();
    run(engine, history);
    const campaign = Array.from({ length: 400 }, (_, i) =>
      outbound({
        timeMs: attackStart + i * 500,
        fingerprint: '0123456789abcdef',
        maskedBody: 'Big sale <amount> off',
        recipientKey: `c${i}`,
      }),
    );
    const stops: NormalizedEvent[] = Array.from({ length: 40 }, (_, i) => ({
      kind: 'inbound' as const,
      eventId: `stop${i}`,
      timeMs: attackStart + 150_000 + i * 1_000,
      accountId: 'acct_a',
      recipientKey: `c${i * 3}`,
      country: 'US',
      classification: 'opt_out' as const,
    }));
    const detections = run(engine, merge(campaign, stops));
    const spike = detections.find((d) => d.kind === 'opt_out_spike');
    expect(spike, kinds(detections, 'info').join()).toBeDefined();
    expect(spike?.labels['fingerprint']).toBe('0123456789abcdef');
  });

  it("judges a young template on its own rate: a campaign's STOPs diluted by the account's OTPs", () => {
    // 100 OTPs a minute for 30 hours, then a campaign to 300 people beside them; 30 of them (10 %)
    // reply STOP within 20 minutes: 0.5 % of the account's hour, under its 2 % bar.
    const start = T0 + 30 * HOUR;
    const otps = steadyTraffic(T0, start + 40 * MIN, 100, 7);
    const campaign = Array.from({ length: 300 }, (_, i) =>
      outbound({
        timeMs: start + i * 2_000,
        fingerprint: 'fedcba9876543210',
        maskedBody: 'Your parcel is held, pay <amount> at <url:evil.com>',
        recipientKey: `v${i}`,
      }),
    );
    const stops = Array.from({ length: 30 }, (_, i) => stop(i, `v${i * 10}`, start + 2 * MIN + i * 40_000));
    const engine = new DetectionEngine();
    const found = run(engine, merge(otps, campaign, stops)).filter((d) => d.kind === 'opt_out_spike');
    expect(found.map((d) => d.key)).not.toContain('account');
    const template = found.filter((d) => d.key === 'template:fedcba9876543210');
    // A warning at the tenth STOP, critical from the twentieth.
    expect(template.map((d) => d.severity)).toEqual(['warning', 'critical']);
    expect(template[0]?.evidence.reason).toMatch(/^10 opt-outs from \d+ messages of one template/);

    // A template is judged in its first day only: 15 STOPs (3.6 %) in 20 minutes from recipients of
    // a reminder the account has sent every 4 minutes for 28 hours.
    const newsletter = Array.from({ length: 420 }, (_, i) =>
      outbound({
        timeMs: T0 + 2 * HOUR + i * 4 * MIN,
        fingerprint: '0011223344556677',
        maskedBody: 'Reminder: your appointment is on <date>',
        recipientKey: `v${i}`,
      }),
    );
    const late = Array.from({ length: 15 }, (_, i) => stop(i, `v${400 + i}`, start + 2 * MIN + i * 80_000));
    const control = new DetectionEngine();
    expect(run(control, merge(otps, newsletter, late)).filter((d) => d.kind === 'opt_out_spike')).toEqual([]);
  });

  it('does not judge a template taken up again after it was dropped idle on the STOPs of its first sends', () => {
    // A blast of 1,500 with 8 STOPs (0.5 %); 6 hours later (dropped after 2 idle hours) it goes to 5
    // more people, and 12 late STOPs come from the blast's recipients: '10 opt-outs from 5 messages
    // (200 %)'.
    const start = T0 + 30 * HOUR;
    const fp = 'fedcba9876543210';
    const send = (timeMs: number, recipientKey: string) =>
      outbound({ timeMs, fingerprint: fp, maskedBody: 'Spring sale at <url:shop.example>', recipientKey });
    const blast = Array.from({ length: 1_500 }, (_, i) => send(start + i * 400, `c${i}`));
    const resend = Array.from({ length: 5 }, (_, i) => send(start + 6 * HOUR + i * 1_000, `n${i}`));
    const stops = [
      ...Array.from({ length: 8 }, (_, i) => stop(i, `c${i * 7}`, start + 10 * MIN + i * 5 * MIN)),
      ...Array.from({ length: 12 }, (_, i) =>
        stop(100 + i, `c${500 + i * 13}`, start + 6 * HOUR + 5 * MIN + i * 8 * MIN),
      ),
    ];
    const engine = new DetectionEngine();
    const found = run(engine, merge(steadyTraffic(T0, start + 10 * HOUR, 100, 7), blast, resend, stops));
    expect(found.filter((d) => d.kind === 'opt_out_spike').map((d) => d.evidence.reason)).toEqual([]);
  });
});

describe('credential_anomaly', () => {
  it('links a no-MFA login from a new network and a new key to the burst that follows', () => {
    const engine = new DetectionEngine();
    run(
      engine,
      merge(history, [
        audit({ timeMs: T0 + 2 * HOUR, action: 'login' }),
        audit({ timeMs: T0 + 20 * HOUR, action: 'login' }),
      ]),
    );
    const chain = [
      audit({
        timeMs: attackStart - 20 * MIN,
        action: 'login',
        mfaUsed: false,
        sourceIp: '45.9.8.7',
        sourceNetwork: '45.9.8.0/24',
      }),
      audit({
        timeMs: attackStart - 15 * MIN,
        action: 'api_key_created',
        mfaUsed: false,
        sourceIp: '45.9.8.7',
        sourceNetwork: '45.9.8.0/24',
        targetApiKeyId: 'key_evil',
      }),
    ];
    const burst = Array.from({ length: 400 }, (_, i) =>
      outbound({
        timeMs: attackStart + i * 150,
        apiKeyId: 'key_evil',
        sourceIp: '45.9.8.7',
        sourceNetwork: '45.9.8.0/24',
        userAgent: 'python-requests/2.31',
        recipientKey: `x${i}`,
      }),
    );
    const detections = run(engine, merge(chain, burst));
    const credential = detections.find((d) => d.kind === 'credential_anomaly');
    expect(credential?.severity).toBe('critical');
    expect(credential?.evidence.auditEvents.map((a) => a.action)).toEqual(['login', 'api_key_created']);
  });

  it('reads a client product the key never used as novelty, and a new version of its own client as an upgrade', () => {
    // The usual network: a stolen key run from the owner's own cloud. 250 messages in 50 s.
    const burst = (userAgent: string) =>
      Array.from({ length: 250 }, (_, i) => outbound({ timeMs: attackStart + i * 200, userAgent }));
    const outcome = (userAgent: string) => {
      const engine = new DetectionEngine();
      run(engine, history);
      const found = run(engine, burst(userAgent));
      return {
        credential: found.find((d) => d.kind === 'credential_anomaly'),
        spikeSeverities: new Set(found.filter((d) => d.kind === 'volume_spike').map((d) => d.severity)),
      };
    };
    const scripted = outcome('python-requests/2.31.0');
    expect(scripted.credential?.severity).toBe('warning');
    expect(scripted.credential?.evidence.reason).toMatch(/with new client python-requests\/2\.31\.0/);
    // Corroborated: the burst pages (the same burst with the key's own client is an info).
    expect(scripted.spikeSeverities.has('critical')).toBe(true);

    const upgraded = outcome('acme-sdk/1.4 (linux x64) node/v22.1.0');
    expect(upgraded.credential).toBeUndefined();
    expect(upgraded.spikeSeverities).toEqual(new Set(['info']));
  });

  it('pages a burst from a network the key tried out an hour and a half before (still new to it)', () => {
    const net = { sourceIp: '45.9.8.7', sourceNetwork: '45.9.8.0/24' };
    const engine = new DetectionEngine();
    const probes = Array.from({ length: 5 }, (_, i) =>
      outbound({ timeMs: attackStart - 90 * MIN + i * MIN, ...net }),
    );
    run(engine, merge(history, probes));
    const burst = Array.from({ length: 250 }, (_, i) =>
      outbound({ timeMs: attackStart + i * 200, ...net, recipientKey: `x${i}` }),
    );
    const credential = run(engine, burst).filter((d) => d.kind === 'credential_anomaly');
    // It read 'warning: … with new client :' once the network's first message was an hour old.
    expect(credential.map((d) => d.severity)).toContain('critical');
    expect(credential[0]?.evidence.reason).toMatch(/from new network 45\.9\.8\.0\/24/);
  });

  it("names a user agent's product without its version", () => {
    expect(userAgentProduct('twilio-node/5.1.2 (linux x64) node/v20.1.0')).toBe('twilio-node');
    expect(userAgentProduct('@vonage/server-sdk/3.8.0 node/20.1.0')).toBe('@vonage/server-sdk');
    expect(userAgentProduct('Go-http-client/2.0')).toBe('go-http-client');
    expect(userAgentProduct('okhttp')).toBe('okhttp');
    expect(userAgentProduct('  curl/v8.5.0')).toBe('curl');
  });

  it('stays quiet when a quiet key moves to a new network at the same rate (its expectation is worked out, not read as 0)', () => {
    const engine = new DetectionEngine();
    // 4 a minute: under the volume floors, so no volume check ever cached the key's expectation.
    run(engine, steadyTraffic(T0, T0 + 26 * HOUR, 4, 1));
    const moved = steadyTraffic(T0 + 26 * HOUR, T0 + 32 * HOUR, 4, 2).map((e) => ({
      ...e,
      sourceIp: '198.51.100.7',
      sourceNetwork: '198.51.100.0/24',
    }));
    // It read 35 critical detections ("26 against 0.0 expected") over the 6 hours.
    expect(run(engine, moved).filter((d) => d.kind === 'credential_anomaly')).toEqual([]);
  });

  it('learns a new network in steady use for an hour: a routine blast a day after a migration is not corroborated', () => {
    const blastSeverities = (migrate: boolean) => {
      const engine = new DetectionEngine();
      run(engine, steadyTraffic(T0, T0 + 26 * HOUR, 20, 1));
      const moved = (e: NormalizedEvent) =>
        migrate ? { ...e, sourceIp: '198.51.100.7', sourceNetwork: '198.51.100.0/24' } : e;
      run(engine, steadyTraffic(T0 + 26 * HOUR, T0 + 50 * HOUR, 20, 2).map(moved));
      const blast = steadyTraffic(T0 + 50 * HOUR, T0 + 50 * HOUR + 10 * MIN, 120, 3).map(moved);
      return new Set(
        run(engine, blast)
          .filter((d) => d.kind === 'volume_spike')
          .map((d) => d.severity),
      );
    };
    expect(blastSeverities(false)).toEqual(new Set(['info']));
    // The network stayed novel for good: every later spike of the key paged as 'from a new network'.
    expect(blastSeverities(true)).toEqual(new Set(['info']));
  });

  it('fires when a third-party key sends from outside its allowed networks', () => {
    const engine = new DetectionEngine({
      inventory: [
        {
          keyId: 'key_partner',
          accountId: 'acct_a',
          owner: 'mkt',
          thirdParty: 'Agency',
          allowedNetworks: ['198.51.100.0/24'],
          allowedCountries: ['US'],
          createdAt: T0,
        },
      ],
    });
    const inScope = Array.from({ length: 30 }, (_, i) =>
      outbound({
        timeMs: T0 + i * MIN,
        apiKeyId: 'key_partner',
        sourceIp: '198.51.100.9',
        sourceNetwork: '198.51.100.0/24',
      }),
    );
    expect(kinds(run(engine, inScope))).toEqual([]);
    const outside = Array.from({ length: 5 }, (_, i) =>
      outbound({
        timeMs: T0 + HOUR + i * 1_000,
        apiKeyId: 'key_partner',
        sourceIp: '91.200.1.1',
        sourceNetwork: '91.200.1.0/24',
      }),
    );
    const found = run(engine, outside).find((d) => d.kind === 'credential_anomaly');
    expect(found?.labels['third_party']).toBe('Agency');
  });
});

describe('delivery_failure_spike', () => {
  /** Delivery receipt `i` of acct_a at `timeMs`: delivered, or filtered by a carrier (30007). */
  const status = (i: number, timeMs: number, filtered: boolean): NormalizedEvent => ({
    kind: 'status',
    eventId: `s${i}`,
    timeMs,
    accountId: 'acct_a',
    messageId: `m${i}`,
    status: filtered ? 'filtered' : 'delivered',
    errorCode: filtered ? '30007' : '',
    errorCategory: filtered ? 'carrier_filtered' : '',
    country: 'US',
  });

  it('fires when carriers start filtering an account’s traffic', () => {
    const engine = new DetectionEngine();
    const statuses: NormalizedEvent[] = [];
    for (let i = 0; i < 3000; i++) statuses.push(status(i, T0 + i * 2_000, i > 2800 && i % 3 === 0));
    const found = run(engine, statuses).filter((d) => d.kind === 'delivery_failure_spike');
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]?.key).toBe('account:filtered');
  });

  /** Receipts every 2 s: 6 h with 2 % filtered, then the share `at(minutesSince)` for `minutes`. */
  function receipts(minutes: number, at: (minutesSince: number) => number, seed = 7): NormalizedEvent[] {
    const random = prng(seed);
    const events: NormalizedEvent[] = [];
    const start = 6 * 1_800;
    for (let i = 0; i < start + minutes * 30; i++) {
      const share = i < start ? 0.02 : at((i - start) / 30);
      events.push(status(i, T0 + i * 2_000, random() < share));
    }
    return events;
  }

  it('fires when filtering creeps up over an hour, before a fifth of the traffic is filtered', () => {
    // 2 % → 50 % over 60 minutes. The usual share used to follow within minutes, its bar (3× it)
    // staying ahead of the climb: this never fired.
    const engine = new DetectionEngine();
    const events = receipts(90, (m) => 0.02 + 0.48 * Math.min(1, m / 60));
    let firstAt = -1;
    events.forEach((event, i) => {
      if (firstAt < 0 && engine.process(event).some((d) => d.kind === 'delivery_failure_spike')) firstAt = i;
    });
    expect(firstAt, 'a detection during the climb').toBeGreaterThan(6 * 1_800);
    const minutesIn = (firstAt - 6 * 1_800) / 30;
    expect(0.02 + 0.48 * (minutesIn / 60), 'the filtered share when it fired').toBeLessThan(0.2);
  });

  it('soon outweighs an untypical first window (a running mean while the account is young)', () => {
    // The first 5 minutes fail 30 % (a carrier outage), then 2 % for 2 hours, then 35 %.
    const random = prng(11);
    const events: NormalizedEvent[] = [];
    for (let i = 0; i < 4_000; i++) {
      const minutes = i / 30;
      const share = minutes < 5 ? 0.3 : minutes < 125 ? 0.02 : 0.35;
      const failed = random() < share;
      events.push({
        kind: 'status',
        eventId: `f${i}`,
        timeMs: T0 + i * 2_000,
        accountId: 'acct_a',
        messageId: `m${i}`,
        status: failed ? 'undelivered' : 'delivered',
        errorCode: failed ? '30003' : '',
        errorCategory: failed ? 'unreachable' : '',
        country: 'US',
      });
    }
    const found = run(new DetectionEngine(), events).filter((d) => d.kind === 'delivery_failure_spike');
    // The first window set the usual share near 30 % and its bar near 90 %, for hours.
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]?.detectedAtMs).toBeGreaterThan(T0 + 125 * MIN);
  });

  it('learns a lasting change within a day instead of reporting it for good', () => {
    const engine = new DetectionEngine();
    // 50 % filtered from now on (it was reported for all of the 72 hours).
    const found = run(
      engine,
      receipts(72 * 60, () => 0.5),
    ).filter((d) => d.kind === 'delivery_failure_spike');
    expect(found.length).toBeGreaterThan(0);
    const lastHours = ((found.at(-1)?.windowEndMs ?? 0) - (T0 + 6 * HOUR)) / HOUR;
    expect(lastHours).toBeGreaterThan(6);
    expect(lastHours).toBeLessThan(30);
  });

  it('judges the share on the current window, not on counts left in a ring from an earlier burst', () => {
    const engine = new DetectionEngine();
    const events: NormalizedEvent[] = [];
    // An hour of clean receipts, then a minute in which carriers filter 60 messages.
    for (let i = 0; i < 1_800; i++) events.push(status(i, T0 + i * 2_000, false));
    const burstAt = T0 + 3_600_000;
    for (let i = 0; i < 60; i++) events.push(status(2_000 + i, burstAt + i * 1_000, true));
    const duringBurst = run(engine, events).filter((d) => d.kind === 'delivery_failure_spike');
    expect(duringBurst.length, 'the filtering burst itself is reported').toBeGreaterThan(0);
    // 20 minutes later: 50 receipts, all delivered, within 5 minutes.
    const later = Array.from({ length: 50 }, (_, i) =>
      status(3_000 + i, burstAt + 20 * 60_000 + i * 5_000, false),
    );
    const after = run(engine, later).filter((d) => d.kind === 'delivery_failure_spike');
    expect(
      after.map((d) => d.evidence.reason),
      'clean receipts after the burst raise nothing',
    ).toEqual([]);
  });
});

describe('evidence rings', () => {
  /** `accounts` accounts sending `messages` each in turn, 40 a minute each, from `startMs`. */
  function busy(accounts: number, messages: number, startMs: number, prefix = 'busy'): NormalizedEvent[] {
    const events: NormalizedEvent[] = [];
    for (let m = 0; m < messages; m++)
      for (let a = 0; a < accounts; a++)
        events.push(
          outbound({
            timeMs: startMs + Math.floor(((m * accounts + a) * 1_500) / accounts),
            accountId: `${prefix}${a}`,
            apiKeyId: `key_${a}`,
          }),
        );
    return events;
  }
  const ringSizes = (engine: DetectionEngine) =>
    new Map(engine.snapshot().evidence.map((ring) => [ring.accountId, ring.size]));

  it('stay with the accounts that hold them when more accounts are busy than there are rings', () => {
    // 2,400 accounts, each busy (≥ 20 messages a minute) from its 20th message on: 2,000 get a
    // ring and keep filling it, instead of the rings going round and each holding one message.
    const engine = new DetectionEngine();
    run(engine, busy(2_400, 45, T0));
    const sizes = [...ringSizes(engine).values()];
    expect(sizes).toHaveLength(2_000);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(25);
  });

  it('go to newly busy accounts once their holders are idle, and to a suspicious account at once', () => {
    const engine = new DetectionEngine({ config: { accountWarmupMs: 0 } });
    run(engine, busy(2_000, 25, T0));
    // All 2,000 rings are taken and in use: a new link domain makes this account suspicious, and it
    // takes a ring anyway.
    const end = T0 + 25 * 1_500;
    run(engine, [
      outbound({ timeMs: end, accountId: 'phisher', linkDomains: ['pay-fee.top'] }),
      outbound({ timeMs: end + 10, accountId: 'phisher', linkDomains: ['pay-fee.top'] }),
    ]);
    expect(ringSizes(engine).get('phisher')).toBeGreaterThanOrEqual(1);
    // A minute after the busy accounts stopped, newly busy ones get rings.
    run(engine, busy(100, 25, end + 2 * MIN, 'later'));
    const sizes = ringSizes(engine);
    expect(sizes.size).toBe(2_000);
    for (let a = 0; a < 100; a++) expect(sizes.get(`later${a}`)).toBeGreaterThanOrEqual(5);
  });
});

describe('event time', () => {
  it('drops events later than the allowed lateness and counts them', () => {
    const engine = new DetectionEngine({ config: { allowedLatenessMs: 30_000 } });
    engine.process(outbound({ timeMs: T0 + 60_000 }));
    engine.process(outbound({ timeMs: T0 + 40_000 }));
    engine.process(outbound({ timeMs: T0 }));
    expect(engine.stats()).toMatchObject({ processed: 2, late: 1 });
  });

  it('judges lateness per event kind: a status stream running hours ahead does not make outbound late', () => {
    const engine = new DetectionEngine({ config: { allowedLatenessMs: 30_000 } });
    engine.process(audit({ timeMs: T0 + 3 * HOUR, action: 'login' }));
    engine.process(outbound({ timeMs: T0 }));
    engine.process(outbound({ timeMs: T0 + 60_000 }));
    engine.process(audit({ timeMs: T0 + HOUR, action: 'login' }));
    expect(engine.stats()).toMatchObject({ processed: 3, late: 1 });
    const restored = DetectionEngine.restore(JSON.parse(JSON.stringify(engine.snapshot())), {
      config: { allowedLatenessMs: 30_000 },
    });
    restored.process(outbound({ timeMs: T0 + 20_000 }));
    restored.process(outbound({ timeMs: T0 + 2 * 60_000 }));
    expect(restored.stats()).toMatchObject({ processed: 4, late: 2 });
  });

  it('gives the same output after restoring a snapshot taken before any population prior was learned', () => {
    // The priors start unknown (NaN, null in JSON); restored as 0 they made the expected rate 0.99.
    const options = { config: { accountWarmupMs: 0 } };
    const events = Array.from({ length: 40 }, (_, i) =>
      outbound({ timeMs: T0 + i * 1_500, accountId: 'fresh' }),
    );
    const straight = run(new DetectionEngine(options), events);
    const first = new DetectionEngine(options);
    const before = run(first, events.slice(0, 10));
    for (const restored of [
      DetectionEngine.restoreLines([...first.snapshotLines()], options),
      DetectionEngine.restore(JSON.parse(JSON.stringify(first.snapshot())), options),
    ]) {
      const after = run(restored, events.slice(10));
      expect(straight.length).toBeGreaterThan(0);
      expect(JSON.stringify([...before, ...after])).toBe(JSON.stringify(straight));
    }
  });

  it('gives the same detections with the same ids for the same input, and after snapshot → restore', () => {
    const attack = pumpingBurst(attackStart, 500, 100);
    const all = merge(history, attack);
    const split = Math.floor(history.length * 0.8);
    const straight = run(new DetectionEngine(), all);
    const first = new DetectionEngine();
    const before = run(first, all.slice(0, split));
    const snapshot = JSON.parse(JSON.stringify(first.snapshot()));
    const restored = DetectionEngine.restore(snapshot);
    const after = run(restored, all.slice(split));
    expect(straight.length).toBeGreaterThan(0);
    expect(JSON.stringify([...before, ...after])).toBe(JSON.stringify(straight));

    // The line form restores the same engine, and so does a single line with a whole snapshot
    // (what checkpoints held before lines).
    const lines = [...first.snapshotLines()];
    expect(lines.length).toBeGreaterThan(2);
    const fromLines = DetectionEngine.restoreLines([...lines.join('\n').split('\n'), '']);
    expect(JSON.stringify(fromLines.snapshot())).toBe(JSON.stringify(first.snapshot()));
    expect(JSON.stringify(run(fromLines, all.slice(split)))).toBe(JSON.stringify(after));
    const fromOneLine = DetectionEngine.restoreLines([JSON.stringify(first.snapshot())]);
    expect(JSON.stringify(fromOneLine.snapshot())).toBe(JSON.stringify(first.snapshot()));
    expect(() => DetectionEngine.restoreLines([''])).toThrow(/empty engine snapshot/);
    // The lines read the live state lazily: events wait until the generator is done or closed.
    const open = first.snapshotLines();
    open.next();
    expect(() => first.process(outbound({ timeMs: attackStart }))).toThrow(/being snapshotted/);
    open.return(undefined);
    expect(() => first.process(outbound({ timeMs: attackStart }))).not.toThrow();
  });
});

describe('detections', () => {
  it('of two windows of one key that start together have different ids', () => {
    // A 1-minute and a 5-minute window ending four minutes apart start together: the id hashes
    // the window's length too (it did not, and the later detection overwrote the earlier).
    const start = attackStart - (attackStart % 10_000);
    expect(detectionId('volume_spike', 'acct_a', 'account', start, MIN)).not.toBe(
      detectionId('volume_spike', 'acct_a', 'account', start, 5 * MIN),
    );
    // And over a run: one id per (kind, key, window).
    const burst = Array.from({ length: 700 }, (_, i) =>
      outbound({ timeMs: start + Math.floor((i * 150_000) / 700), recipientKey: `b${i}` }),
    );
    const later = Array.from({ length: 12 }, (_, i) => outbound({ timeMs: start + 160_000 + i * 20_000 }));
    const found = run(new DetectionEngine(), merge(history, burst, later));
    const windows = new Map<string, string>();
    for (const d of found) {
      const window = `${d.kind}/${d.key}/${d.windowStartMs}/${d.windowEndMs}`;
      expect(windows.get(d.id) ?? window, d.id).toBe(window);
      windows.set(d.id, window);
    }
    expect(found.length).toBeGreaterThan(1);
  });

  it("carry evidence of their window's messages, not of older ones still in the ring", () => {
    const engine = new DetectionEngine();
    const events: NormalizedEvent[] = [];
    // Ten minutes of a campaign to GB, then nothing sent for 90 minutes, then carriers filter receipts.
    for (let i = 0; i < 600; i++)
      events.push(
        outbound({
          timeMs: T0 + i * 1_000,
          country: 'GB',
          prefix: '+447700',
          fingerprint: 'ffee0011ffee0011',
          maskedBody: 'Old campaign https://old.example/<path>',
          linkDomains: ['old.example'],
          recipientKey: `o${i}`,
        }),
      );
    for (let i = 0; i < 300; i++)
      events.push({
        kind: 'status',
        eventId: `s${i}`,
        timeMs: T0 + 100 * MIN + i * 1_000,
        accountId: 'acct_a',
        messageId: `m${i}`,
        status: i > 100 && i % 2 ? 'filtered' : 'delivered',
        errorCode: '',
        errorCategory: i > 100 && i % 2 ? 'carrier_filtered' : '',
        country: 'US',
      });
    const spike = run(engine, events).find((d) => d.kind === 'delivery_failure_spike');
    expect(spike).toBeDefined();
    expect(spike?.evidence.topTemplates).toEqual([]);
    expect(spike?.evidence.linkDomains).toEqual([]);
    expect(spike?.evidence.distinctRecipients).toBe(0);
    expect(spike?.evidence.estimatedCostUsd).toBe(0);
    // The campaign's own detections, in its window, do show it.
    const campaign = run(new DetectionEngine(), events.slice(0, 600)).find((d) => d.kind === 'volume_spike');
    expect(campaign?.evidence.topTemplates[0]?.fingerprint).toBe('ffee0011ffee0011');
  });

  it('of premium-rate pumping from a quiet account score what they are: critical, with or without caps', () => {
    const quiet = steadyTraffic(T0, T0 + 30 * HOUR, 1, 7);
    const start = T0 + 30 * HOUR + 30_000;
    const premium = Array.from({ length: 5 }, (_, i) =>
      outbound({
        timeMs: start + i * 5_000,
        numberType: 'premium_rate',
        recipientNumeric: 19_000_000_000 + i * 777_777,
        recipientKey: `pr${i}`,
      }),
    );
    for (const config of [{}, { severity: { warningScore: 1, criticalScore: 2 } }]) {
      const found = run(new DetectionEngine({ config }), merge(quiet, premium)).filter(
        (d) => d.kind === 'destination_anomaly',
      );
      expect(found.map((d) => [d.severity, d.score])).toEqual([['critical', 2]]);
    }
  });

  it('take severities within the configured caps: by score, and by kind', () => {
    const pumping = pumpingBurst(attackStart);
    const severities = (config: DetectConfigInput) =>
      run(new DetectionEngine({ config }), merge(history, pumping))
        .filter((d) => d.kind === 'destination_anomaly')
        .map((d) => d.severity);
    expect(severities({})).toContain('critical');
    expect(new Set(severities({ severity: { warningScore: 1e9, criticalScore: 1e9 } }))).toEqual(
      new Set(['info']),
    );
    const capped = severities({ severity: { criticalScore: 1e9 } });
    expect(capped.length).toBeGreaterThan(0);
    expect(capped).not.toContain('critical');
    expect(
      new Set(severities({ severity: { maxByKind: { destination_anomaly: 'warning' } } })).has('critical'),
    ).toBe(false);
    // Another kind's cap leaves this one alone.
    expect(severities({ severity: { maxByKind: { opt_out_spike: 'info' } } })).toContain('critical');
  });
});
