import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { type DetectionRule, loadRules, matchesDetection } from '@floodgate/alerter';
import { migrate, warnRetention } from '@floodgate/clickhouse';
import { ConfigError } from '@floodgate/config';
import {
  CrossAccountStage,
  type Detection,
  DetectionEngine,
  deleteOldest,
  detectConfigSchema,
  normalizeEvent,
  sampleErrorCodeCategories,
} from '@floodgate/detect';
import { detectionRow } from '@floodgate/detector';
import { apiKeyRow, rawRowOf } from '@floodgate/ingest';
import { apiKeyInventorySchema, parseEvent } from '@floodgate/schema';
import { clickhouseConfig, openClickhouse } from '../connection.ts';
import { type Command, formatTable, parse, UsageError } from '../usage.ts';

const INSERT_CHUNK = 5_000;

function readJsonFile(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`${what}: cannot read ${path} as JSON: ${(error as Error).message}`);
  }
}

export const replayCommand: Command = {
  name: 'replay',
  summary: 'backtest: run historical events through normalisation and detection, store and print detections',
  help: `Usage: floodgate replay <file.ndjson|-> [--config <detect.json>] [--inventory <keys.json>]
                        [--rules <rules.yaml>] [--output table|ndjson] [--no-store]

Reads v1 events, one JSON object per line (every kind may be mixed, told apart by "type", in roughly
event-time order — an export of your own logs, or \`floodgate simulate --to file\`), and runs them
through the same validation, normalisation and detection path as the pipeline, without Kafka. Raw
rows and detections are stored in ClickHouse (skip with --no-store); the detections are printed.

  --config     detection thresholds as JSON (the engine's config: see README, Detection). Answers
               "what would these thresholds have fired on last month's traffic?"
  --inventory  API key inventory (JSON list) for scope checks; stored in api_keys
  --rules      an alerting rules file: also print which detection rules would have fired, and on whom
  --output     table (default) or ndjson: one detection per line in the detection schema

Invalid lines are reported on stderr with their line number and reasons and skipped. Exit status: 0,
or 1 when no line was valid.`,
  async run(argv) {
    const { values, positionals, help } = parse('replay', argv, {
      config: { type: 'string' },
      inventory: { type: 'string' },
      rules: { type: 'string' },
      output: { type: 'string', default: 'table' },
      'no-store': { type: 'boolean' },
    });
    if (help) {
      console.log(this.help);
      return 0;
    }
    if (positionals.length !== 1)
      throw new UsageError('replay: expected one input file, or - for stdin (see floodgate replay --help)');
    const output = String(values['output']);
    if (output !== 'table' && output !== 'ndjson')
      throw new UsageError(`replay: --output must be table or ndjson, got "${output}"`);
    const parsedConfig = detectConfigSchema.safeParse(
      values['config'] ? readJsonFile(String(values['config']), '--config') : {},
    );
    if (!parsedConfig.success)
      throw new ConfigError(
        parsedConfig.error.issues.map((i) => ({
          source: `--config ${i.path.join('.')}`,
          path: i.path.join('.'),
          message: i.message,
        })),
      );
    const inventory = values['inventory']
      ? apiKeyInventorySchema.parse(readJsonFile(String(values['inventory']), '--inventory'))
      : [];
    const rules = values['rules'] ? loadRules(String(values['rules'])) : undefined;
    const store = values['no-store'] !== true;

    const engine = new DetectionEngine({ config: parsedConfig.data, inventory });
    const campaigns = new CrossAccountStage(parsedConfig.data);
    const hmacKey = process.env['FLOODGATE_HMAC_KEY'] ?? 'floodgate-dev-only-hmac-key';
    const countryOfMessage = new Map<string, string>();
    const normalizeOptions = {
      hmacKey,
      prefixDigits: Number(process.env['PREFIX_DIGITS'] ?? 6),
      errorCodeCategories: sampleErrorCodeCategories,
      countryOfMessage: (id: string) => countryOfMessage.get(id),
    };
    const bodyStorage = (process.env['BODY_STORAGE'] ?? 'masked') as 'none' | 'masked' | 'full';

    // The embedded engine takes fd 0 away (it would read stdin as INSERT data): stdin is copied to a
    // temporary file first and replayed from there.
    let inputPath = positionals[0] as string;
    let spooled: string | undefined;
    if (inputPath === '-' && store && !clickhouseConfig().url) {
      spooled = mkdtempSync(join(tmpdir(), 'floodgate-replay-'));
      inputPath = join(spooled, 'stdin.ndjson');
      await pipeline(process.stdin, createWriteStream(inputPath));
    }
    const opened = store ? await openClickhouse() : undefined;
    if (opened)
      warnRetention(
        {
          warn: (fields, message) => console.error(`floodgate replay: ${message} ${JSON.stringify(fields)}`),
        },
        await migrate(opened.clickhouse, opened.config),
      );
    if (opened && inventory.length > 0)
      await opened.clickhouse.client.insert({
        table: 'api_keys',
        values: inventory.map(apiKeyRow),
        format: 'JSONEachRow',
      });
    const pending = new Map<string, Record<string, unknown>[]>();
    const insert = async (table: string, rows: Record<string, unknown>[]) => {
      if (opened && rows.length > 0)
        await opened.clickhouse.client.insert({ table, values: rows, format: 'JSONEachRow' });
    };
    const queueRow = async (table: string, row: Record<string, unknown>) => {
      const rows = pending.get(table) ?? [];
      rows.push(row);
      pending.set(table, rows);
      if (rows.length >= INSERT_CHUNK) {
        pending.set(table, []);
        await insert(table, rows);
      }
    };

    const detections: Detection[] = [];
    let line = 0;
    let valid = 0;
    let invalid = 0;
    const input = inputPath === '-' ? process.stdin : createReadStream(inputPath);
    input.on('error', (error: Error) => {
      console.error(`replay: cannot read ${positionals[0]}: ${error.message}`);
      process.exit(1);
    });
    try {
      for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
        line++;
        if (text.trim() === '') continue;
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch (error) {
          invalid++;
          console.error(`line ${line}: invalid JSON: ${(error as Error).message}`);
          continue;
        }
        const parsed = parseEvent(json);
        if (!parsed.ok) {
          invalid++;
          console.error(
            `line ${line}: ${parsed.problems.map((p) => `${p.path || '(event)'}: ${p.message}`).join('; ')}`,
          );
          continue;
        }
        valid++;
        const event = normalizeEvent(parsed.value, normalizeOptions);
        if (event.kind === 'outbound') {
          if (countryOfMessage.size > 500_000) deleteOldest(countryOfMessage);
          countryOfMessage.set(event.eventId, event.country);
        }
        if (store) {
          const raw = rawRowOf(parsed.value, event, bodyStorage);
          await queueRow(raw.table, raw.row);
        }
        for (const d of engine.process(event)) detections.push(d);
        for (const observation of engine.drainObservations())
          for (const d of campaigns.process(observation)) detections.push(d);
      }
      for (const [table, rows] of pending) await insert(table, rows);
      for (let i = 0; i < detections.length; i += INSERT_CHUNK)
        await insert('detections', detections.slice(i, i + INSERT_CHUNK).map(detectionRow));
    } finally {
      await opened?.clickhouse.close();
      if (spooled) rmSync(spooled, { recursive: true, force: true });
    }

    if (output === 'ndjson') for (const d of detections) console.log(JSON.stringify(d));
    else {
      const rows = detections.map((d) => ({
        detected_at: new Date(d.detectedAtMs).toISOString().replace('T', ' ').slice(0, 19),
        severity: d.severity,
        kind: d.kind,
        account: d.accountId,
        key: d.key,
        'observed/expected': `${Math.round(d.observed * 10) / 10}/${Math.round(d.expected * 10) / 10}`,
        reason: d.evidence.reason,
      }));
      console.log(
        formatTable(
          ['detected_at', 'severity', 'kind', 'account', 'key', 'observed/expected', 'reason'],
          rows,
          90,
        ),
      );
    }
    if (rules) {
      const detectionRules = rules.rules.filter((r): r is DetectionRule => r.type === 'detection');
      const rows = detectionRules.map((rule) => {
        const hits = detections.filter((d) => matchesDetection(rule, d));
        const accounts = [...new Set(hits.map((d) => d.accountId))];
        return {
          rule: rule.name,
          detections: hits.length,
          accounts: accounts.length,
          first_accounts: accounts.slice(0, 5).join(' '),
        };
      });
      const out = output === 'ndjson' ? console.error : console.log;
      out(`\nrules in ${rules.file} (detection rules; SQL rules need the stored data: floodgate query):`);
      out(formatTable(['rule', 'detections', 'accounts', 'first_accounts'], rows));
    }
    console.error(
      `replay: ${valid} events, ${invalid} invalid line${invalid === 1 ? '' : 's'} skipped, ${detections.length} detections${store ? ' (stored)' : ''}`,
    );
    return valid === 0 && invalid > 0 ? 1 : 0;
  },
};
