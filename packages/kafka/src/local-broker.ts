/**
 * Starts a real single-node Apache Kafka (KRaft, broker + controller in one JVM) on loopback, from the
 * jars that infra/kafka/pom.xml resolves from Maven Central. Used by the test setup, the demo and
 * `pnpm kafka`; it needs only Java 17+ and Maven, never Docker. Every run gets fresh storage in a
 * temp dir and free ports, so parallel runs do not collide.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KafkaSetupError } from './errors.ts';

const execFileAsync = promisify(execFile);

export interface LocalBrokerOptions {
  /** Folder holding pom.xml and log4j2.properties; defaults to the repo's infra/kafka. */
  infraDir?: string;
  /** Where resolved jars are cached between runs. */
  cacheDir?: string;
  /** Maximum JVM heap, e.g. "768m". */
  heap?: string;
  /** How long to wait for the broker to report it started. */
  startTimeoutMs?: number;
  /** Receives each line the broker prints (default: kept in the run dir only). */
  onLog?: (line: string) => void;
  /** Broker overrides appended to server.properties. */
  extraProperties?: Record<string, string | number | boolean>;
}

export interface LocalBroker {
  /** host:port for kafkajs `brokers`. */
  readonly bootstrap: string;
  readonly pid: number;
  readonly runDir: string;
  stop(): Promise<void>;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const defaultInfraDir = join(repoRoot, 'infra', 'kafka');

function kafkaVersion(infraDir: string): string {
  const pom = readFileSync(join(infraDir, 'pom.xml'), 'utf8');
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom);
  if (!match?.[1])
    throw new KafkaSetupError('KAFKA_POM_INVALID', `no <kafka.version> in ${infraDir}/pom.xml`);
  return match[1];
}

/** Resolves the broker's jars once; later calls return the cached folder immediately. */
export async function ensureKafkaJars(
  options: Pick<LocalBrokerOptions, 'infraDir' | 'cacheDir'> = {},
): Promise<string> {
  const infraDir = options.infraDir ?? defaultInfraDir;
  const version = kafkaVersion(infraDir);
  const cacheRoot = options.cacheDir ?? process.env['FLOODGATE_CACHE_DIR'] ?? join(repoRoot, '.cache');
  const jarDir = join(cacheRoot, `kafka-${version}`);
  const marker = join(jarDir, '.complete');
  if (existsSync(marker)) return jarDir;
  mkdirSync(jarDir, { recursive: true });
  try {
    await execFileAsync(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        join(infraDir, 'pom.xml'),
        'dependency:copy-dependencies',
        `-DoutputDirectory=${jarDir}`,
        '-DincludeScope=runtime',
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (cause) {
    throw new KafkaSetupError(
      'KAFKA_JARS_UNRESOLVED',
      'could not resolve the Kafka broker jars with Maven (is `mvn` on PATH and Maven Central reachable?)',
      { cause },
    );
  }
  if (!readdirSync(jarDir).some((f) => f.startsWith('kafka_2.13-'))) {
    throw new KafkaSetupError('KAFKA_JARS_UNRESOLVED', `Maven finished but ${jarDir} has no kafka_2.13 jar`);
  }
  writeFileSync(marker, `${version}\n`);
  return jarDir;
}

export async function freePort(): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * KRaft cluster ids are 16 random bytes in URL-safe base64 without padding. One in 64 of those
 * starts with '-', which `kafka-storage format -t <id>` reads as an option ("argument
 * --cluster-id/-t: expected one argument"): the broker then failed to start, 1 run in 64. Kafka's
 * own Uuid.randomUuid() draws again in that case; so does this.
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

async function runJava(args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync('java', args, { cwd, maxBuffer: 16 * 1024 * 1024 });
  } catch (cause) {
    throw new KafkaSetupError('KAFKA_FORMAT_FAILED', `java ${args.slice(-6).join(' ')} failed`, { cause });
  }
}

export async function startLocalBroker(options: LocalBrokerOptions = {}): Promise<LocalBroker> {
  const infraDir = options.infraDir ?? defaultInfraDir;
  const jarDir = await ensureKafkaJars(options);
  const runDir = mkdtempSync(join(tmpdir(), 'floodgate-kafka-'));
  const port = await freePort();
  // The first port is free again once probed, so the system may hand it out twice (seen: Kafka then
  // refuses two listeners on one port and the format step fails).
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const properties: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': join(runDir, 'data'),
    // A single node cannot hold three replicas of the internal topics: without these the group
    // coordinator never comes up and consumers wait forever.
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 8,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    'num.partitions': 1,
    'auto.create.topics.enable': false,
    'message.max.bytes': 4 * 1024 * 1024,
    ...options.extraProperties,
  };
  const configPath = join(runDir, 'server.properties');
  writeFileSync(
    configPath,
    `${Object.entries(properties)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
  );
  const classpath = `${jarDir}/*`;
  const jvmArgs = [
    `-Xmx${options.heap ?? '768m'}`,
    '-Xms256m',
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(infraDir, 'log4j2.properties')}`,
    '-cp',
    classpath,
  ];
  await runJava(
    [
      ...jvmArgs,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      newClusterId(),
      '-c',
      configPath,
      '--ignore-formatted',
    ],
    runDir,
  );

  const child = spawn('java', [...jvmArgs, 'kafka.Kafka', configPath], {
    cwd: runDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logPath = join(runDir, 'broker.log');
  const logLines: string[] = [];
  const started = new Promise<void>((resolveStarted, reject) => {
    const timeoutMs = options.startTimeoutMs ?? 90_000;
    const timer = setTimeout(
      () =>
        reject(
          new KafkaSetupError(
            'KAFKA_START_TIMEOUT',
            `broker did not start within ${timeoutMs} ms; last output:\n${logLines.slice(-20).join('\n')}`,
          ),
        ),
      timeoutMs,
    );
    const onLine = (line: string): void => {
      logLines.push(line);
      if (logLines.length > 500) logLines.shift();
      options.onLog?.(line);
      if (line.includes('Kafka Server started')) {
        clearTimeout(timer);
        resolveStarted();
      }
    };
    let pending = '';
    const onChunk = (chunk: Buffer): void => {
      pending += chunk.toString('utf8');
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        onLine(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
      }
    };
    child.stdout?.on('data', onChunk);
    child.stderr?.on('data', onChunk);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      writeFileSync(logPath, logLines.join('\n'));
      reject(
        new KafkaSetupError(
          'KAFKA_EXITED',
          `broker exited early (code ${code}, signal ${signal}); last output:\n${logLines.slice(-20).join('\n')}`,
        ),
      );
    });
  });
  try {
    await started;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= stopChild(child, 15_000).finally(() => rmSync(runDir, { recursive: true, force: true }));
    return stopping;
  };
  return { bootstrap: `127.0.0.1:${port}`, pid: child.pid ?? -1, runDir, stop };
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
