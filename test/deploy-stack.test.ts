/**
 * The Docker Compose stack (infra/docker-compose.yml) cannot run here (no Docker engine), so this
 * checks it statically against the repository: build contexts, Dockerfile stages, commands, mounted
 * files, ports, every environment variable against the services' config env maps (and the configs
 * parse), Prometheus targets and the metric names its rules use, Alertmanager routes, the Grafana
 * datasource, and the dashboard's SQL — run on a migrated ClickHouse engine. Each check is a
 * function returning problems, so the last tests can show that a typo is caught.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alerterEnv, loadAlerterConfig, loadRules } from '@floodgate/alerter';
import { clickhouseConnectionSchema, connectionEnv, loadConfig } from '@floodgate/config';
import { detectorEnv, loadDetectorConfig } from '@floodgate/detector';
import { ingestEnv, loadIngestConfig } from '@floodgate/ingest';
import { createRegistry } from '@floodgate/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { openTestClickhouse, type TestClickhouse } from './setup/clickhouse.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const infra = join(repo, 'infra');
const composePath = join(infra, 'docker-compose.yml');

type Json = Record<string, unknown>;
const readYaml = (path: string): Json => parse(readFileSync(path, 'utf8'), { merge: true }) as Json;
const asRecord = (value: unknown): Json => (value ?? {}) as Json;

// ---------------------------------------------------------------------------------------------
// Compose variable interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, $VAR, $$.

function readDotenv(path: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^\s*([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) values.set(match[1] as string, (match[2] as string).trim());
  }
  return values;
}

interface Interpolation {
  value: unknown;
  /** Variables used with no value and no default. */
  unset: string[];
  /** Variables the file requires (`${VAR:?…}`). */
  required: string[];
}

function interpolate(document: unknown, variables: Map<string, string>): Interpolation {
  const unset: string[] = [];
  const required: string[] = [];
  const expand = (text: string): string =>
    text.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (whole, braced?: string, operator?: string, argument?: string, bare?: string) => {
        if (whole === '$$') return '$';
        const name = (braced ?? bare) as string;
        const value = variables.get(name);
        const empty = value === undefined || (operator?.startsWith(':') && value === '');
        if (operator?.endsWith('?')) required.push(name);
        if (!empty) return value as string;
        if (operator?.endsWith('-')) return argument ?? '';
        unset.push(name);
        return '';
      },
    );
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return expand(node);
    if (Array.isArray(node)) return node.map(walk);
    if (node && typeof node === 'object')
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    return node;
  };
  return { value: walk(document), unset, required };
}

// ---------------------------------------------------------------------------------------------
// Facts from the repository the stack must agree with.

/** Variables read straight from the environment (not through a config env map), e.g. ADMIN_ADDRESS. */
function directlyReadEnv(): Set<string> {
  const names = new Set<string>();
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'dist') visit(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        const text = readFileSync(path, 'utf8');
        for (const m of text.matchAll(/\benv\[['"]([A-Z][A-Z0-9_]*)['"]\]|process\.env\.([A-Z][A-Z0-9_]*)/g))
          names.add((m[1] ?? m[2]) as string);
      }
    }
  };
  for (const root of ['packages', 'services'])
    for (const pkg of readdirSync(join(repo, root))) {
      const src = join(repo, root, pkg, 'src');
      if (existsSync(src)) visit(src);
    }
  return names;
}

/** Metric names registered in services/ and packages/ source, plus prom-client's default ones. */
async function registeredMetrics(): Promise<{ names: Set<string>; histograms: Set<string> }> {
  const names = new Set<string>();
  const histograms = new Set<string>();
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'dist') visit(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        const text = readFileSync(path, 'utf8');
        for (const m of text.matchAll(
          /new (Counter|Gauge|Histogram|Summary)\(\{\s*name:\s*'(floodgate_[a-z0-9_]+)'/g,
        )) {
          names.add(m[2] as string);
          if (m[1] === 'Histogram' || m[1] === 'Summary') histograms.add(m[2] as string);
        }
        for (const m of text.matchAll(/const name = '(floodgate_[a-z0-9_]+)'/g)) names.add(m[1] as string);
      }
    }
  };
  for (const root of ['packages', 'services'])
    for (const pkg of readdirSync(join(repo, root))) {
      const src = join(repo, root, pkg, 'src');
      if (existsSync(src)) visit(src);
    }
  for (const metric of await createRegistry('deploy-stack-test').getMetricsAsJSON()) {
    names.add(metric.name);
    if (['histogram', 'summary'].includes(String(metric.type))) histograms.add(metric.name);
  }
  return { names, histograms };
}

/** Tables and their columns as the migrations create them. */
function migrationTables(): Map<string, Set<string>> {
  const tables = new Map<string, Set<string>>();
  const dir = join(infra, 'clickhouse', 'migrations');
  for (const file of readdirSync(dir).sort()) {
    const sql = readFileSync(join(dir, file), 'utf8');
    for (const m of sql.matchAll(/CREATE TABLE IF NOT EXISTS (\w+)\s*\(([\s\S]*?)\n\)/g)) {
      const columns = new Set<string>();
      for (const line of (m[2] as string).split('\n')) {
        const column = /^\s*(\w+)\s+\S/.exec(line);
        if (column) columns.add(column[1] as string);
      }
      tables.set(m[1] as string, columns);
    }
    for (const m of sql.matchAll(/ALTER TABLE (\w+) ADD COLUMN IF NOT EXISTS (\w+)/g))
      tables.get(m[1] as string)?.add(m[2] as string);
  }
  return tables;
}

// ---------------------------------------------------------------------------------------------
// The checks. Each returns the problems it found (empty = fine).

type Service = {
  image?: string;
  build?: { context: string; dockerfile: string; target?: string };
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  volumes?: string[];
  ports?: string[];
  expose?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: unknown;
};
type Compose = { services: Record<string, Service>; volumes?: Record<string, unknown> };

const floodgateServices = { ingest: 9464, detector: 9465, alerter: 9466 } as const;
type FloodgateService = keyof typeof floodgateServices;

const envMaps: Record<FloodgateService | 'migrate', Readonly<Record<string, string>>> = {
  ingest: ingestEnv,
  detector: detectorEnv,
  alerter: alerterEnv,
  migrate: connectionEnv,
};

const stringEnv = (service: Service): Record<string, string> =>
  Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)]));

/** A bind mount's host path for a container path, following the service's volumes. */
function hostPathOf(service: Service, containerPath: string): string | undefined {
  for (const volume of service.volumes ?? []) {
    const [source, target] = volume.split(':') as [string, string];
    if (!source.startsWith('.') && !source.startsWith('/')) continue;
    if (containerPath === target) return resolve(infra, source);
    if (containerPath.startsWith(`${target}/`))
      return join(resolve(infra, source), containerPath.slice(target.length));
  }
  return undefined;
}

function checkEnvironment(compose: Compose, directEnv: Set<string>, alerterSecrets: Set<string>): string[] {
  const problems: string[] = [];
  for (const [name, map] of Object.entries(envMaps)) {
    const service = compose.services[name];
    if (!service) {
      problems.push(`service ${name} is missing`);
      continue;
    }
    for (const variable of Object.keys(service.environment ?? {})) {
      const known =
        variable in map || directEnv.has(variable) || (name === 'alerter' && alerterSecrets.has(variable));
      if (!known)
        problems.push(`${name}: ${variable} is not read by ${name} (not in its env map nor read directly)`);
    }
  }
  return problems;
}

function checkConfigsParse(compose: Compose): string[] {
  const problems: string[] = [];
  const attempt = (name: string, load: (env: NodeJS.ProcessEnv) => unknown) => {
    const service = compose.services[name];
    if (!service) return problems.push(`service ${name} is missing`);
    try {
      load(stringEnv(service));
    } catch (error) {
      problems.push(`${name}: its configuration does not load: ${(error as Error).message}`);
    }
  };
  attempt('ingest', (env) => loadIngestConfig({ env }));
  attempt('detector', (env) => loadDetectorConfig({ env }));
  attempt('alerter', (env) => loadAlerterConfig({ env }));
  attempt('migrate', (env) =>
    loadConfig(z.object({ clickhouse: clickhouseConnectionSchema }), connectionEnv, { env }),
  );
  return problems;
}

function checkMounts(compose: Compose): string[] {
  const problems: string[] = [];
  const named = new Set(Object.keys(compose.volumes ?? {}));
  for (const [name, service] of Object.entries(compose.services)) {
    for (const volume of service.volumes ?? []) {
      const [source, target] = volume.split(':') as [string, string | undefined];
      if (!target?.startsWith('/')) problems.push(`${name}: volume ${volume} has no absolute container path`);
      if (source.startsWith('.') || source.startsWith('/')) {
        if (!existsSync(resolve(infra, source)))
          problems.push(`${name}: mounted ${source} does not exist in infra/`);
      } else if (!named.has(source)) problems.push(`${name}: named volume ${source} is not declared`);
    }
  }
  return problems;
}

function checkPrometheusRules(
  rulesDoc: Json,
  metrics: { names: Set<string>; histograms: Set<string> },
): string[] {
  const problems: string[] = [];
  const promqlWords = new Set(
    (
      'sum min max avg count stddev stdvar topk bottomk quantile count_values group by without on ignoring ' +
      'group_left group_right and or unless bool offset rate irate increase deriv delta idelta changes resets ' +
      'abs absent absent_over_time ceil floor round clamp clamp_min clamp_max histogram_quantile label_replace ' +
      'label_join time timestamp vector scalar sort sort_desc avg_over_time min_over_time max_over_time ' +
      'sum_over_time count_over_time last_over_time predict_linear humanize humanizeDuration inf nan'
    ).split(' '),
  );
  const allowedOther = new Set(['up']);
  const groups = (rulesDoc['groups'] ?? []) as { name: string; rules: Json[] }[];
  if (groups.length === 0) problems.push('no rule groups');
  for (const group of groups)
    for (const rule of group.rules ?? []) {
      const name = String(rule['alert'] ?? rule['record']);
      const expr = String(rule['expr'] ?? '');
      if (!expr) problems.push(`${name}: no expr`);
      if (rule['alert'] && !asRecord(rule['labels'])['severity']) problems.push(`${name}: no severity label`);
      if (rule['alert'] && !asRecord(rule['annotations'])['summary']) problems.push(`${name}: no summary`);
      // Drop label matchers, strings and range/durations, then every remaining word is a function, a
      // keyword or a metric name.
      const bare = expr
        .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
        .replace(/\{[^}]*\}/g, ' ')
        .replace(/"[^"]*"|'[^']*'/g, ' ')
        .replace(/\[[^\]]*\]/g, ' ')
        .replace(/\b\d+(\.\d+)?(ms|s|m|h|d|w|y)?\b/g, ' ');
      for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
        const word = m[0];
        if (promqlWords.has(word) || allowedOther.has(word)) continue;
        const base = word.replace(/_(bucket|sum|count)$/, '');
        const known = metrics.names.has(word) || (metrics.histograms.has(base) && base !== word);
        if (!known) problems.push(`${name}: metric ${word} is not registered by any service`);
      }
    }
  return problems;
}

/** Grafana ClickHouse macros and the dashboard variable, expanded as the plugin would. */
function expandGrafanaSql(sql: string, account: string): string {
  return sql
    .replace(/\$__conditionalAll\(([\s\S]*?),\s*\$account\)/g, '($1)')
    .replace(/\$\{account:singlequote\}/g, `'${account}'`)
    .replace(/\$__timeFilter\((\w+)\)/g, '$1 >= toDateTime(1767225600) AND $1 <= toDateTime(1798761600)')
    .replace(/\$__timeInterval\((\w+)\)/g, 'toStartOfInterval(toDateTime($1), INTERVAL 60 second)')
    .replace(/\$__fromTime/g, 'toDateTime(1767225600)')
    .replace(/\$__toTime/g, 'toDateTime(1798761600)');
}

function dashboardQueries(dashboard: Json): { title: string; sql: string }[] {
  const queries: { title: string; sql: string }[] = [];
  for (const panel of (dashboard['panels'] ?? []) as Json[])
    for (const target of (panel['targets'] ?? []) as Json[])
      queries.push({ title: String(panel['title']), sql: String(target['rawSql']) });
  for (const variable of (asRecord(dashboard['templating'])['list'] ?? []) as Json[])
    queries.push({ title: `variable ${variable['name']}`, sql: String(variable['query']) });
  return queries;
}

function checkDashboardTables(dashboard: Json, tables: Map<string, Set<string>>): string[] {
  const problems: string[] = [];
  for (const { title, sql } of dashboardQueries(dashboard))
    for (const m of sql.matchAll(/\b(?:FROM|JOIN)\s+([a-z_][a-z0-9_]*)/gi)) {
      if (!tables.has(m[1] as string)) problems.push(`${title}: table ${m[1]} is not created by a migration`);
    }
  return problems;
}

// ---------------------------------------------------------------------------------------------

describe('Docker Compose stack (infra/docker-compose.yml), checked against the repository', () => {
  const env = readDotenv(join(infra, '.env.example'));
  const raw = readYaml(composePath);
  const interpolated = interpolate(raw, env);
  const compose = interpolated.value as Compose;
  const services = compose.services;
  const dockerfile = readFileSync(join(infra, 'docker', 'Dockerfile'), 'utf8');
  const stages = [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1] as string);
  const prometheus = readYaml(join(infra, 'prometheus', 'prometheus.yml'));
  const alertmanager = readYaml(join(infra, 'alertmanager', 'alertmanager.yml'));
  const tables = migrationTables();
  const alerterRulesFile = () => {
    const path = stringEnv(services['alerter'] as Service)['ALERT_RULES_FILE'] ?? '';
    return hostPathOf(services['alerter'] as Service, path);
  };
  const rulesSecrets = (): Set<string> => {
    const file = alerterRulesFile();
    if (!file) return new Set();
    return new Set(
      [...readFileSync(file, 'utf8').matchAll(/\{\s*env:\s*([A-Z0-9_]+)\s*\}/g)].map((m) => m[1] as string),
    );
  };
  /** Ports a container listens on, by service. */
  const listening = (name: string): Set<number> => {
    const service = services[name] as Service;
    const fixed: Record<string, number[]> = {
      clickhouse: [8123, 9000],
      prometheus: [9090],
      alertmanager: [9093],
      grafana: [3000],
    };
    if (name === 'kafka') {
      const listeners = stringEnv(service)['KAFKA_LISTENERS'] ?? '';
      return new Set([...listeners.matchAll(/:(\d+)/g)].map((m) => Number(m[1])));
    }
    if (name in floodgateServices) {
      const admin = stringEnv(service)['ADMIN_ADDRESS'] ?? '';
      return new Set([Number(admin.split(':').pop())]);
    }
    return new Set(fixed[name] ?? []);
  };

  it('every variable it interpolates is set in infra/.env.example or has a default, and secrets are placeholders', () => {
    expect(interpolated.unset, 'variables with no value and no default').toEqual([]);
    expect(interpolated.required.length).toBeGreaterThan(0);
    for (const secret of [
      'CLICKHOUSE_PASSWORD',
      'FLOODGATE_HMAC_KEY',
      'FLOODGATE_CONSOLE_TOKEN',
      'GRAFANA_ADMIN_PASSWORD',
      'GRAFANA_CLICKHOUSE_PASSWORD',
    ]) {
      expect(interpolated.required, `${secret} must be required (\${${secret}:?…})`).toContain(secret);
      expect(env.get(secret), `${secret} in .env.example is an obvious placeholder`).toMatch(/^change-me/);
    }
    expect(readFileSync(composePath, 'utf8'), 'no secret written into the compose file').not.toMatch(
      /^\s*[A-Z_]*(PASSWORD|HMAC_KEY|SECRET)[A-Z_]*:\s*(?!\$\{)\S/m,
    );
  });

  it('has Kafka (KRaft), ClickHouse, the three services, migrate, Prometheus, Alertmanager and Grafana', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'alerter',
        'alertmanager',
        'clickhouse',
        'detector',
        'grafana',
        'ingest',
        'kafka',
        'migrate',
        'prometheus',
      ].sort(),
    );
    expect(services['kafka']?.image).toMatch(/^apache\/kafka:/);
    expect(stringEnv(services['kafka'] as Service)['KAFKA_PROCESS_ROLES']).toBe('broker,controller');
    expect(services['clickhouse']?.image).toMatch(/^clickhouse\/clickhouse-server:/);
  });

  it('builds every Floodgate service from infra/docker/Dockerfile with the repository as context', () => {
    expect(stages, 'a multi-stage Dockerfile').toEqual(
      expect.arrayContaining(['build', 'runtime', 'migrate']),
    );
    for (const name of [...Object.keys(floodgateServices), 'migrate']) {
      const build = services[name]?.build;
      expect(build, `${name} is built`).toBeDefined();
      expect(resolve(infra, build?.context ?? ''), `${name} context`).toBe(repo);
      expect(existsSync(join(repo, build?.dockerfile ?? '')), `${name} Dockerfile ${build?.dockerfile}`).toBe(
        true,
      );
      expect(stages, `${name} target ${build?.target}`).toContain(build?.target);
    }
    const images = Object.keys(floodgateServices).map((name) => services[name]?.image);
    expect(new Set(images).size, 'the three services share one image').toBe(1);
  });

  it('the Dockerfile uses Node 24 and the pinned pnpm, runs pnpm build, and runs as a non-root user', () => {
    const packageJson = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
      packageManager: string;
    };
    const pnpmVersion = packageJson.packageManager.replace(/^pnpm@/, '').split('+')[0];
    expect(dockerfile).toContain(`ARG PNPM_VERSION=${pnpmVersion}`);
    expect(dockerfile).toMatch(/ARG NODE_IMAGE=node:24[-.]/);
    expect(dockerfile).toMatch(/pnpm build/);
    for (const stage of ['runtime', 'migrate']) {
      const body = dockerfile.split(/^FROM /m).find((part) => new RegExp(`AS ${stage}\\s`).test(part)) ?? '';
      const user = [...body.matchAll(/^USER\s+(\S+)/gm)].pop()?.[1];
      expect(user, `${stage} stage runs as`).toBeDefined();
      expect(user).not.toMatch(/^(root|0)$/);
    }
    for (const m of dockerfile.matchAll(/^COPY\s+(?!--from)(?:--\S+\s+)*(.+)\s+\S+$/gm))
      for (const source of (m[1] as string).split(/\s+/))
        expect(existsSync(join(repo, source)), `COPY source ${source}`).toBe(true);
    // The services run with the environment pnpm bench measured them with (the malloc threshold).
    const runtime = dockerfile.split(/^FROM /m).find((part) => /AS runtime\s/.test(part)) ?? '';
    const bench = readFileSync(join(repo, 'scripts/bench/pipeline.ts'), 'utf8');
    const benchEnv = /const SERVICE_ENV = \{([^}]*)\}/.exec(bench)?.[1] ?? '';
    const pairs = [...benchEnv.matchAll(/(\w+): '([^']*)'/g)];
    expect(pairs.length, 'SERVICE_ENV in scripts/bench/pipeline.ts').toBeGreaterThan(0);
    for (const [, name, value] of pairs)
      expect(runtime, `runtime ENV ${name}`).toMatch(new RegExp(`^ENV .*\\b${name}=${value}(\\s|$)`, 'm'));
    const ignore = readFileSync(join(infra, 'docker', 'Dockerfile.dockerignore'), 'utf8');
    for (const pattern of ['**/node_modules', '.git', '.toolchain', '**/.env'])
      expect(ignore).toContain(pattern);
  });

  it('every command runs a file that the build produces from the repository', () => {
    for (const name of Object.keys(floodgateServices)) {
      const command = services[name]?.command ?? [];
      expect(command, name).toEqual(['node', `services/${name}/dist/main.js`]);
      expect(existsSync(join(repo, 'services', name, 'src', 'main.ts')), `services/${name}/src/main.ts`).toBe(
        true,
      );
    }
    const migrate = services['migrate']?.command ?? [];
    expect(migrate[0]).toBe('node');
    expect(existsSync(join(repo, migrate[1] ?? '')), `migrate runs ${migrate[1]}`).toBe(true);
    expect(services['ingest']?.depends_on?.['migrate']?.condition).toBe('service_completed_successfully');
  });

  it('every mounted file or directory exists and every named volume is declared', () => {
    expect(checkMounts(compose)).toEqual([]);
  });

  it('every environment variable a service is given is one it reads, and each configuration loads', () => {
    expect(checkEnvironment(compose, directlyReadEnv(), rulesSecrets())).toEqual([]);
    expect(checkConfigsParse(compose)).toEqual([]);
    const ingest = loadIngestConfig({ env: stringEnv(services['ingest'] as Service) });
    const [brokerHost, brokerPort] = (ingest.kafka.brokers?.[0] ?? '').split(':');
    expect(services, `broker host ${brokerHost}`).toHaveProperty(brokerHost as string);
    expect(listening(brokerHost as string), 'the broker listens on that port').toContain(Number(brokerPort));
    const clickhouseUrl = new URL(ingest.clickhouse.url ?? '');
    expect(services).toHaveProperty(clickhouseUrl.hostname);
    expect(listening(clickhouseUrl.hostname)).toContain(Number(clickhouseUrl.port));
    expect(ingest.clickhouse.user, 'services use the user the clickhouse container creates').toBe(
      stringEnv(services['clickhouse'] as Service)['CLICKHOUSE_USER'],
    );
    expect(ingest.clickhouse.database).toBe(stringEnv(services['clickhouse'] as Service)['CLICKHOUSE_DB']);
  });

  it("the alerter's rules file is mounted, validates, and sends to the stack's Alertmanager", () => {
    const file = alerterRulesFile();
    expect(file, 'ALERT_RULES_FILE is a mounted file').toBeDefined();
    const rules = loadRules(file as string, { env: stringEnv(services['alerter'] as Service) });
    const receivers = [...rules.receivers.values()];
    expect(receivers.length).toBeGreaterThan(0);
    for (const receiver of receivers) {
      const url = new URL(receiver.url);
      if (url.hostname in services)
        expect(listening(url.hostname), receiver.name).toContain(Number(url.port));
    }
    expect(receivers.some((r) => r.type === 'alertmanager' && r.url.includes('alertmanager:9093'))).toBe(
      true,
    );
  });

  it('each service binds its admin endpoint to 0.0.0.0 on its own port, which Prometheus scrapes', () => {
    const targets = new Map<string, string>();
    for (const job of (prometheus['scrape_configs'] ?? []) as Json[])
      for (const config of (job['static_configs'] ?? []) as Json[])
        for (const target of (config['targets'] ?? []) as string[])
          targets.set(target.split(':')[0] as string, target);
    for (const [name, port] of Object.entries(floodgateServices)) {
      const service = services[name] as Service;
      expect(stringEnv(service)['ADMIN_ADDRESS'], name).toBe(`0.0.0.0:${port}`);
      const defaults = readdirSync(join(repo, 'services', name, 'src'))
        .filter((f) => f.endsWith('.ts'))
        .map((f) =>
          /defaultAdminAddress:\s*'[^']*:(\d+)'/.exec(
            readFileSync(join(repo, 'services', name, 'src', f), 'utf8'),
          ),
        )
        .find(Boolean);
      expect(Number(defaults?.[1]), `${name}'s documented default admin port`).toBe(port);
      expect(service.expose, name).toContain(String(port));
      expect(targets.get(name), `Prometheus scrapes ${name}`).toBe(`${name}:${port}`);
    }
    for (const [host, target] of targets) {
      if (host === 'localhost') continue;
      expect(services, `scrape target ${target}`).toHaveProperty(host);
      expect(listening(host), `scrape target ${target}`).toContain(Number(target.split(':')[1]));
    }
    const alertTargets = (asRecord(prometheus['alerting'])['alertmanagers'] as Json[]).flatMap((a) =>
      (a['static_configs'] as Json[]).flatMap((c) => c['targets'] as string[]),
    );
    expect(alertTargets).toEqual(['alertmanager:9093']);
  });

  it('published ports are unique, bound to localhost and served by the container', () => {
    const hostPorts = new Set<string>();
    for (const [name, service] of Object.entries(services))
      for (const mapping of service.ports ?? []) {
        const parts = String(mapping)
          .replace(/\s*#.*$/, '')
          .split(':');
        expect(parts, `${name} ${mapping}`).toHaveLength(3);
        const [address, hostPort, containerPort] = parts as [string, string, string];
        expect(address, `${name} publishes on localhost only`).toBe('127.0.0.1');
        expect(hostPorts.has(hostPort), `host port ${hostPort} used twice`).toBe(false);
        hostPorts.add(hostPort);
        expect(listening(name), `${name} listens on ${containerPort}`).toContain(Number(containerPort));
      }
    for (const [name, service] of Object.entries(services))
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(services, `${name} depends on ${dependency}`).toHaveProperty(dependency);
        if (condition === 'service_healthy')
          expect(services[dependency]?.healthcheck, `${dependency} has a healthcheck`).toBeDefined();
      }
  });

  it('Prometheus loads the mounted rules, which watch lag, DLQ, sink errors, checkpoints and up with registered metrics', async () => {
    const service = services['prometheus'] as Service;
    const ruleFiles = (prometheus['rule_files'] ?? []) as string[];
    const loaded: string[] = [];
    for (const pattern of ruleFiles) {
      const dir = hostPathOf(service, dirname(pattern));
      expect(dir, `${pattern} is mounted`).toBeDefined();
      const suffix = pattern.split('*').pop() ?? '';
      loaded.push(
        ...readdirSync(dir as string)
          .filter((f) => f.endsWith(suffix))
          .map((f) => join(dir as string, f)),
      );
    }
    expect(loaded.length).toBeGreaterThan(0);
    expect(hostPathOf(service, '/etc/prometheus/prometheus.yml')).toBe(
      join(infra, 'prometheus', 'prometheus.yml'),
    );
    const metrics = await registeredMetrics();
    const exprs: string[] = [];
    for (const file of loaded) {
      const rules = readYaml(file);
      expect(checkPrometheusRules(rules, metrics), file).toEqual([]);
      for (const group of rules['groups'] as { rules: Json[] }[])
        for (const rule of group.rules) exprs.push(String(rule['expr']));
    }
    for (const needed of [
      'floodgate_consumer_lag',
      'floodgate_ingest_dead_lettered_total',
      'floodgate_ingest_sink_errors_total',
      'floodgate_detector_checkpoint_age_seconds',
      'up{',
    ])
      expect(
        exprs.some((e) => e.includes(needed)),
        `a rule watches ${needed}`,
      ).toBe(true);
  });

  it('Alertmanager routes to declared receivers and its matchers name alerts that exist', () => {
    const receivers = new Set(((alertmanager['receivers'] ?? []) as Json[]).map((r) => String(r['name'])));
    const route = asRecord(alertmanager['route']);
    const routes = [route, ...((route['routes'] ?? []) as Json[])];
    for (const r of routes)
      expect(receivers, `route receiver ${r['receiver']}`).toContain(r['receiver'] ?? route['receiver']);
    expect(hostPathOf(services['alertmanager'] as Service, '/etc/alertmanager/alertmanager.yml')).toBe(
      join(infra, 'alertmanager', 'alertmanager.yml'),
    );
    const alerts = readdirSync(join(infra, 'prometheus', 'rules')).flatMap((f) =>
      (readYaml(join(infra, 'prometheus', 'rules', f))['groups'] as { rules: Json[] }[]).flatMap((g) =>
        g.rules.map((r) => String(r['alert'])),
      ),
    );
    const matchers = [
      ...routes.flatMap((r) => (r['matchers'] ?? []) as string[]),
      ...((alertmanager['inhibit_rules'] ?? []) as Json[]).flatMap((i) => [
        ...((i['source_matchers'] ?? []) as string[]),
        ...((i['target_matchers'] ?? []) as string[]),
      ]),
    ];
    for (const matcher of matchers) {
      const m = /^alertname(=~|=)"([^"]+)"$/.exec(matcher);
      if (!m) continue;
      for (const alternative of (m[2] as string).split('|')) {
        const regex = new RegExp(
          `^(?:${m[1] === '=' ? alternative.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : alternative})$`,
        );
        expect(
          alerts.some((a) => regex.test(a)),
          `matcher ${matcher}: ${alternative} matches an alert`,
        ).toBe(true);
      }
    }
  });

  it('Grafana gets the ClickHouse plugin, a datasource for a read-only user that exists, and the dashboard', () => {
    const grafana = services['grafana'] as Service;
    const grafanaEnv = stringEnv(grafana);
    const datasourceFile = hostPathOf(grafana, '/etc/grafana/provisioning/datasources/clickhouse.yaml');
    expect(datasourceFile && existsSync(datasourceFile), 'datasource provisioning is mounted').toBe(true);
    const [datasource] = (readYaml(datasourceFile as string)['datasources'] ?? []) as Json[];
    expect(datasource?.['type']).toBe('grafana-clickhouse-datasource');
    expect(grafanaEnv['GF_PLUGINS_PREINSTALL_SYNC']).toContain('grafana-clickhouse-datasource');
    const jsonData = asRecord(datasource?.['jsonData']);
    expect(services).toHaveProperty(String(jsonData['host']));
    expect(listening(String(jsonData['host']))).toContain(Number(jsonData['port']));
    expect(jsonData['defaultDatabase']).toBe(stringEnv(services['clickhouse'] as Service)['CLICKHOUSE_DB']);
    const password = String(asRecord(datasource?.['secureJsonData'])['password']);
    const passwordVar = /^\$\{?([A-Z_][A-Z0-9_]*)\}?$/.exec(password)?.[1];
    expect(passwordVar, 'the password comes from the environment').toBeDefined();
    expect(grafanaEnv[passwordVar as string], `grafana is given ${passwordVar}`).toBeTruthy();
    // The user is defined in a users.d file mounted into the clickhouse container, with its password from the same variable.
    const clickhouse = services['clickhouse'] as Service;
    const usersFile = hostPathOf(clickhouse, '/etc/clickhouse-server/users.d/grafana-user.xml');
    expect(usersFile && existsSync(usersFile), 'users.d file is mounted').toBe(true);
    const xml = readFileSync(usersFile as string, 'utf8');
    expect(xml).toContain(`<${jsonData['username']}>`);
    expect(xml).toMatch(/<readonly>[12]<\/readonly>/);
    const fromEnv = /from_env="([A-Z_][A-Z0-9_]*)"/.exec(xml)?.[1];
    expect(fromEnv).toBe(passwordVar);
    expect(stringEnv(clickhouse)[fromEnv as string], `clickhouse is given ${fromEnv}`).toBeTruthy();
    // Dashboards provider → mounted directory with the dashboard, whose panels use this datasource.
    const providerFile = hostPathOf(grafana, '/etc/grafana/provisioning/dashboards/floodgate.yaml');
    const [provider] = (readYaml(providerFile as string)['providers'] ?? []) as Json[];
    const dashboardsDir = hostPathOf(grafana, String(asRecord(provider?.['options'])['path']));
    expect(dashboardsDir && statSync(dashboardsDir).isDirectory(), 'dashboards directory is mounted').toBe(
      true,
    );
    const dashboard = JSON.parse(
      readFileSync(join(dashboardsDir as string, 'floodgate-overview.json'), 'utf8'),
    ) as Json;
    for (const panel of dashboard['panels'] as Json[])
      expect(asRecord(panel['datasource'])['uid'], String(panel['title'])).toBe(datasource?.['uid']);
  });

  describe('dashboard SQL on a migrated ClickHouse engine', () => {
    let ch: TestClickhouse;
    const dashboard = JSON.parse(
      readFileSync(join(infra, 'grafana', 'dashboards', 'floodgate-overview.json'), 'utf8'),
    ) as Json;
    beforeAll(async () => {
      ch = await openTestClickhouse('deploy-stack');
    });
    afterAll(async () => {
      await ch?.dispose();
    });

    it('covers traffic per account, detections over time, top templates and the opt-out rate', () => {
      expect(checkDashboardTables(dashboard, tables)).toEqual([]);
      const sql = dashboardQueries(dashboard)
        .map((q) => q.sql)
        .join('\n');
      for (const table of ['traffic_minute', 'detections', 'fingerprints', 'replies_minute'])
        expect(sql).toContain(table);
    });

    it('every panel and variable query runs read-only against the migrations, macros expanded', async () => {
      for (const { title, sql } of dashboardQueries(dashboard)) {
        const expanded = expandGrafanaSql(sql, 'acct_0001');
        expect(expanded, `${title}: every macro expanded`).not.toContain('$');
        const result = await ch.client
          .query({ query: expanded, format: 'JSONEachRow', clickhouse_settings: { readonly: '2' } })
          .then((r) => r.json())
          .catch((error: Error) => error);
        expect(result instanceof Error ? `${title}: ${result.message}` : 'ok').toBe('ok');
      }
    });

    it('a column that does not exist fails the query (the check can fail)', async () => {
      const [first] = dashboardQueries(dashboard);
      expect(first?.sql).toContain('sum(messages)');
      const broken = expandGrafanaSql(
        (first?.sql ?? '').replace('sum(messages)', 'sum(mesages)'),
        'acct_0001',
      );
      await expect(ch.client.query({ query: broken, format: 'JSONEachRow' })).rejects.toThrow(/mesages/);
    });
  });

  describe('the checks catch mistakes', () => {
    const mutated = (edit: (c: Compose) => void): Compose => {
      const copy = structuredClone(compose);
      edit(copy);
      return copy;
    };

    it('a misspelt environment variable', () => {
      const typo = mutated((c) => {
        const environment = (c.services['detector'] as Service).environment as Record<string, string>;
        environment['KAFKA_BROKER'] = environment['KAFKA_BROKERS'] as string;
        delete environment['KAFKA_BROKERS'];
      });
      expect(checkEnvironment(typo, directlyReadEnv(), rulesSecrets())).toEqual([
        'detector: KAFKA_BROKER is not read by detector (not in its env map nor read directly)',
      ]);
    });

    it('an invalid value (a short HMAC key) stops the configuration from loading', () => {
      const weak = mutated((c) => {
        ((c.services['ingest'] as Service).environment as Record<string, string>)['FLOODGATE_HMAC_KEY'] =
          'short';
      });
      expect(checkConfigsParse(weak).join('\n')).toMatch(/ingest:[\s\S]*FLOODGATE_HMAC_KEY/);
    });

    it('a mounted file that is not in the repository', () => {
      const missing = mutated((c) => {
        (c.services['prometheus'] as Service).volumes?.push(
          './prometheus/missing.yml:/etc/prometheus/missing.yml:ro',
        );
      });
      expect(checkMounts(missing)).toEqual([
        'prometheus: mounted ./prometheus/missing.yml does not exist in infra/',
      ]);
    });

    it('a metric name no service registers', async () => {
      const rules = {
        groups: [
          {
            name: 'g',
            rules: [
              {
                alert: 'A',
                expr: 'floodgate_consumer_lags > 1',
                labels: { severity: 'x' },
                annotations: { summary: 's' },
              },
            ],
          },
        ],
      };
      expect(checkPrometheusRules(rules, await registeredMetrics())).toEqual([
        'A: metric floodgate_consumer_lags is not registered by any service',
      ]);
    });

    it('a table that no migration creates', () => {
      const dashboard = { panels: [{ title: 'p', targets: [{ rawSql: 'SELECT 1 FROM traffic_minutes' }] }] };
      expect(checkDashboardTables(dashboard, tables)).toEqual([
        'p: table traffic_minutes is not created by a migration',
      ]);
    });
  });
});
