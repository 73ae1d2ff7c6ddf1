/**
 * The incident console wired to this alerter: the console's actions are the CLI's (alert_actions,
 * alert_silences), and the alerter in the same process applies them at once.
 */
import type { Clickhouse } from '@floodgate/clickhouse';
import { consoleRoutes, parseUsers } from '@floodgate/console';
import type { AdminRoute, Logger, Registry } from '@floodgate/observability';
import type { AlerterHandle } from './alerter.ts';
import type { AlerterConfig } from './config.ts';
import { recordIncidentAction } from './incidents/actions.ts';
import { createSilence } from './silences/silences.ts';

export function incidentConsoleRoutes(
  config: AlerterConfig,
  clickhouse: Clickhouse,
  alerter: Pick<AlerterHandle, 'refreshActions' | 'refreshSilences'> | undefined,
  registry: Registry,
  logger: Logger,
): Record<string, AdminRoute> {
  const { token, users, privacy, sessionHours } = config.console;
  const routes = consoleRoutes({
    clickhouse: clickhouse.client,
    access: { token, users: users ? parseUsers(users) : undefined, sessionHours },
    privacy,
    registry,
    logger: logger.child({ component: 'console' }),
    actions: {
      record: (input) => recordIncidentAction(clickhouse, input),
      silence: (input) => createSilence(clickhouse, input),
    },
    onChange: async (what) => {
      if (!alerter) return;
      try {
        await (what === 'silences' ? alerter.refreshSilences() : alerter.refreshActions());
      } catch (error) {
        logger.warn(
          { err: error, what },
          'alerter refresh after a console action failed; it catches up at its next refresh',
        );
      }
    },
  });
  logger.info(
    Object.keys(routes).length > 0
      ? { console: 'on', privacy, signIn: [token ? 'token' : '', users ? 'basic' : ''].filter(Boolean) }
      : { console: 'off' },
    Object.keys(routes).length > 0
      ? 'incident console on the admin address'
      : 'incident console off (set CONSOLE_TOKEN or CONSOLE_USERS to turn it on)',
  );
  return routes;
}
