export { mainHelp, runCli } from './cli.ts';
export { commands } from './commands/index.ts';
export {
  prepareAligned,
  simulatePlan,
  streamSimulation,
  topicMessagesOf,
  topicOf,
} from './commands/simulate.ts';
export {
  CONFIG_REFERENCE_END,
  CONFIG_REFERENCE_START,
  configReferenceMarkdown,
  referenceSections,
  withConfigReference,
} from './config-reference.ts';
export { type Command, formatTable, parseDurationMs, parseParams, UsageError } from './usage.ts';
