import { createWriteStream, writeFileSync } from 'node:fs';
import { connectionEnv, kafkaConnectionSchema, loadConfig, topicsEnv, topicsSchema } from '@floodgate/config';
import { createKafka, ensureTopics } from '@floodgate/kafka';
import type { FloodgateEvent } from '@floodgate/schema';
import {
  type PreparedSimulation,
  prepareSimulation,
  type ScenarioName,
  type ScenarioPlanEntry,
  type SimulationOptions,
  scenarioNames,
} from '@floodgate/simulator';
import { z } from 'zod';
import { type Command, parse, parseDurationMs, parsePositiveInt, UsageError } from '../usage.ts';

export interface SimulatePlan {
  startMs: number;
  durationMs: number;
  scenarios: ScenarioPlanEntry[];
}

/** History before `nowMs` (learned baselines), then `liveMs` of live traffic with the attacks in it. */
export function simulatePlan(
  nowMs: number,
  historyMs: number,
  liveMs: number,
  names: readonly ScenarioName[],
): SimulatePlan {
  const startMs = nowMs - historyMs;
  // Attacks start a little into the live part, or near the end of the history when there is none.
  const atMs =
    liveMs > 0 ? nowMs + Math.min(10_000, Math.floor(liveMs / 4)) : nowMs - Math.floor(historyMs / 5);
  return {
    startMs,
    durationMs: historyMs + liveMs,
    scenarios: names.map((name, i) => ({ name, atMs: atMs + i * 5_000 }) as ScenarioPlanEntry),
  };
}

/**
 * Prepares the simulation with each scenario moved so that its attack *traffic* starts at its planned
 * time: a takeover's blast follows the console login by minutes, so its login and key creation land
 * in the history and the blast in the live part. Scenario timing draws do not depend on the start
 * time, so one trial run tells the shift.
 */
export function prepareAligned(options: SimulationOptions): PreparedSimulation {
  const planned = options.scenarios ?? [];
  const trial = prepareSimulation(options);
  const scenarios = planned.map((entry) => {
    const label = trial.labels.find((l) => l.scenario === entry.name);
    const shift = label ? entry.atMs - (label.trafficStartMs ?? label.startMs) : 0;
    return { ...entry, atMs: Math.max(options.startMs, entry.atMs + shift) } as ScenarioPlanEntry;
  });
  return prepareSimulation({ ...options, scenarios });
}

type TopicNames = Pick<
  z.infer<typeof topicsSchema>,
  'outbound' | 'inbound' | 'status' | 'feedback' | 'audit'
>;

/** The producer topic of an event, by its type. */
export function topicOf(topics: TopicNames, event: FloodgateEvent): string {
  switch (event.type) {
    case 'message.outbound':
      return topics.outbound;
    case 'message.inbound':
      return topics.inbound;
    case 'message.status':
      return topics.status;
    case 'message.feedback':
      return topics.feedback;
    case 'account.audit':
      return topics.audit;
  }
}

/** Events as kafkajs `sendBatch` topic messages: each on its type's topic, keyed by account. */
export function topicMessagesOf(
  topics: TopicNames,
  events: readonly FloodgateEvent[],
): { topic: string; messages: { key: string; value: string }[] }[] {
  const byTopic = new Map<string, { key: string; value: string }[]>();
  for (const event of events) {
    const topic = topicOf(topics, event);
    let list = byTopic.get(topic);
    if (!list) {
      list = [];
      byTopic.set(topic, list);
    }
    list.push({ key: event.accountId, value: JSON.stringify(event) });
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface StreamOptions {
  /** Cap on events per second. */
  rate: number;
  /** Hold back events whose event time is in the future until the clock reaches it. */
  realTime: boolean;
  /** Called about once a second with the events sent so far and the rate. */
  onProgress?: (sent: number, perSecond: number) => void;
  /** Stop early when this returns true. */
  stopped?: () => boolean;
}

/**
 * Sends a prepared simulation in event-time order in batches of up to 1,000: past events as fast as
 * the rate cap allows, future ones (with realTime) when the wall clock reaches them. Returns the count.
 */
export async function streamSimulation(
  simulation: PreparedSimulation,
  send: (events: FloodgateEvent[]) => Promise<void>,
  options: StreamOptions,
): Promise<number> {
  const startedAt = Date.now();
  let sent = 0;
  let lastProgress = startedAt;
  let batch: FloodgateEvent[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await send(batch);
    sent += batch.length;
    batch = [];
    const ahead = (sent / options.rate) * 1000 - (Date.now() - startedAt);
    if (ahead > 5) await sleep(ahead);
    if (Date.now() - lastProgress >= 1000) {
      lastProgress = Date.now();
      options.onProgress?.(sent, Math.round((sent * 1000) / (Date.now() - startedAt)));
    }
  };
  for (const minute of simulation.minutes()) {
    for (const event of minute) {
      if (options.stopped?.()) return sent + batch.length;
      const timeMs =
        typeof event.eventTime === 'number' ? event.eventTime : Date.parse(String(event.eventTime));
      while (options.realTime && timeMs > Date.now()) {
        await flush();
        // The flush can take past timeMs: a negative delay draws a TimeoutNegativeWarning.
        await sleep(Math.max(0, Math.min(250, timeMs - Date.now())));
        options.onProgress?.(sent, Math.round((sent * 1000) / (Date.now() - startedAt)));
      }
      batch.push(event);
      if (batch.length >= 1_000) await flush();
    }
  }
  await flush();
  return sent;
}

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'produce labelled simulated traffic (benign accounts plus attack scenarios) to Kafka or a file',
  help: `Usage: floodgate simulate [--scenario <name>]... [--accounts N] [--history 3h] [--duration 60s]
                          [--rate <events/s>] [--to kafka|file] [--out <file>|-] [--labels <file>]
                          [--inventory <file>] [--seed N]

Generates seeded, realistic traffic: --history of past traffic (so baselines can be learned; sent as
fast as --rate allows), then --duration of live traffic sent in real time, with each --scenario
starting about 10 s into the live part. Scenarios: ${scenarioNames.join(', ')}; "none" for benign
traffic only. What happened where (accounts, keys, times) is printed to stderr as JSON labels at the
end, or written to --labels.

  --to kafka   (default) produce to the topics named by TOPIC_* at KAFKA_BROKERS
  --to file    write NDJSON events to --out (default: stdout), for \`floodgate replay\`
  --inventory  also write the simulated accounts' API key inventory (JSON) there
  --rate       cap on events per second (default: unlimited for files, 20000 for Kafka)`,
  async run(argv) {
    const { values, help } = parse(
      'simulate',
      argv,
      {
        scenario: { type: 'string', multiple: true },
        accounts: { type: 'string' },
        history: { type: 'string', default: '3h' },
        duration: { type: 'string', default: '60s' },
        rate: { type: 'string' },
        to: { type: 'string', default: 'kafka' },
        out: { type: 'string' },
        labels: { type: 'string' },
        inventory: { type: 'string' },
        seed: { type: 'string' },
      },
      false,
    );
    if (help) {
      console.log(this.help);
      return 0;
    }
    const to = String(values['to']);
    if (to !== 'kafka' && to !== 'file')
      throw new UsageError(`simulate: --to must be kafka or file, got "${to}"`);
    const requested = (values['scenario'] as string[] | undefined) ?? ['account_takeover'];
    const names = requested.filter((n) => n !== 'none');
    for (const name of names)
      if (!(scenarioNames as readonly string[]).includes(name))
        throw new UsageError(
          `simulate: unknown scenario "${name}"; known: ${scenarioNames.join(', ')}, none`,
        );
    const historyMs = parseDurationMs(String(values['history']), '--history');
    const liveMs = parseDurationMs(String(values['duration']), '--duration');
    const rate = parsePositiveInt(
      values['rate'] as string | undefined,
      '--rate',
      to === 'kafka' ? 20_000 : Number.MAX_SAFE_INTEGER,
    );
    const accounts = parsePositiveInt(values['accounts'] as string | undefined, '--accounts', 40);
    const seed = parsePositiveInt(values['seed'] as string | undefined, '--seed', 1);
    const plan = simulatePlan(
      Math.floor(Date.now() / 1000) * 1000,
      historyMs,
      liveMs,
      names as ScenarioName[],
    );
    const simulation = prepareAligned({ seed, accounts, ...plan });

    let send: (events: FloodgateEvent[]) => Promise<void>;
    let close: () => Promise<void>;
    if (to === 'kafka') {
      const config = loadConfig(z.object({ kafka: kafkaConnectionSchema, topics: topicsSchema }), {
        ...connectionEnv,
        ...topicsEnv,
      });
      const kafka = createKafka(config.kafka);
      const admin = kafka.admin();
      await admin.connect();
      const topics = config.topics;
      await ensureTopics(
        admin,
        [topics.outbound, topics.inbound, topics.status, topics.feedback, topics.audit].map((topic) => ({
          topic,
          partitions: 6,
        })),
      );
      await admin.disconnect();
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      send = async (events) => {
        await producer.sendBatch({ acks: -1, topicMessages: topicMessagesOf(topics, events) });
      };
      close = () => producer.disconnect();
    } else {
      const out =
        values['out'] === undefined || values['out'] === '-'
          ? process.stdout
          : createWriteStream(String(values['out']));
      send = async (events) => {
        const text = `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;
        if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      };
      close = () =>
        out === process.stdout ? Promise.resolve() : new Promise<void>((resolve) => out.end(resolve));
    }

    const sent = await streamSimulation(simulation, send, {
      rate,
      realTime: to === 'kafka',
      onProgress: (count, perSecond) => {
        if (to === 'kafka') process.stderr.write(`\rsimulate: ${count} events sent (${perSecond}/s)   `);
      },
    });
    await close();
    if (to === 'kafka') process.stderr.write('\n');
    const labels = JSON.stringify(simulation.labels, null, 2);
    if (values['inventory'] !== undefined)
      writeFileSync(String(values['inventory']), JSON.stringify(simulation.inventory, null, 2));
    if (values['labels'] !== undefined) writeFileSync(String(values['labels']), labels);
    else console.error(labels);
    console.error(
      `simulate: ${sent} events (${simulation.labels.length} scenario${simulation.labels.length === 1 ? '' : 's'})`,
    );
    return 0;
  },
};
