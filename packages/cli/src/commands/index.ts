import type { Command } from '../usage.ts';
import { checkConfigCommand } from './check-config.ts';
import { incidentsCommand } from './incidents.ts';
import { migrateCommand } from './migrate.ts';
import { queryCommand } from './query.ts';
import { replayCommand } from './replay.ts';
import { reportCommand } from './report.ts';
import { runCommand } from './run.ts';
import { silenceCommand } from './silence.ts';
import { simulateCommand } from './simulate.ts';

/** Every `floodgate` command, in the order `floodgate --help` lists them. */
export const commands: Command[] = [
  runCommand,
  simulateCommand,
  replayCommand,
  queryCommand,
  incidentsCommand,
  silenceCommand,
  reportCommand,
  migrateCommand,
  checkConfigCommand,
];
