import { alerterService } from '@floodgate/alerter';
import { allInOneService } from '@floodgate/all-in-one';
import { detectorService } from '@floodgate/detector';
import { ingestService } from '@floodgate/ingest';
import { type RunnableService, runServiceMain } from '@floodgate/observability';
import { storeService } from '@floodgate/store';
import { type Command, parse, UsageError } from '../usage.ts';

const services: Record<string, RunnableService<never>> = {
  ingest: ingestService as RunnableService<never>,
  detector: detectorService as RunnableService<never>,
  alerter: alerterService as RunnableService<never>,
  all: allInOneService as RunnableService<never>,
  store: storeService as RunnableService<never>,
};

export const runCommand: Command = {
  name: 'run',
  summary: 'run a service: ingest, detector, alerter, all of them in one process, or the store',
  help: `Usage: floodgate run ingest|detector|alerter|all|store

Runs a service in the foreground until SIGTERM/SIGINT (then stops within 10 s). Configuration comes
from the environment (see README, Configuration); \`floodgate check-config <service>\` shows it.

  ingest     consume the producer topics, dead-letter invalid events, store raw rows, forward
  detector   detect on traffic.normalized, checkpoint, write detections
  alerter    turn detections and SQL rules into incidents and notifications (ALERT_RULES_FILE)
  all        ingest + detector (+ alerter when ALERT_RULES_FILE is set) in one process, as the
             embedded ClickHouse engine requires; without KAFKA_BROKERS it starts a local
             development broker (Java 17+)
  store      serve the embedded engine's data directory over ClickHouse's HTTP interface
             (STORE_LISTEN, default 127.0.0.1:8123), so ingest, detector and alerter can run
             as separate processes with CLICKHOUSE_URL pointing at it

The admin endpoint (/healthz, /readyz, /metrics) listens on ADMIN_ADDRESS.`,
  async run(argv) {
    const { positionals, help } = parse('run', argv, {});
    if (help) {
      console.log(this.help);
      return 0;
    }
    const name = positionals[0];
    const service = name ? services[name] : undefined;
    if (!service || positionals.length > 1)
      throw new UsageError(
        `run: expected one of ${Object.keys(services).join(', ')} (see floodgate run --help)`,
      );
    runServiceMain(service);
    // runServiceMain owns the process from here: it exits on a signal or a startup failure.
    return new Promise<number>(() => undefined);
  },
};
