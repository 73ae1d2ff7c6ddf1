export * from './events.ts';
export { exampleApiKeyInventory, exampleEvent, exampleEvents } from './examples.ts';
export { jsonSchemas } from './json-schemas.ts';
export { limits } from './limits.ts';
export {
  describeProblems,
  type ParseProblem,
  type ParseResult,
  parseEvent,
  parseEventBytes,
  problemsOf,
} from './parse.ts';
export { type Destination, destinationOf, type NumberType } from './phone.ts';
