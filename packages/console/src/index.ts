export { type Caller, type ConsoleAccess, cleanActor, Gate, parseUsers } from './auth.ts';
export { robustBand } from './baseline.ts';
export { type ConsoleActions, type ConsoleOptions, consoleRoutes } from './console.ts';
export {
  ConsoleData,
  type DetectionView,
  type IncidentView,
  networkOf,
  type Privacy,
  type StoredIncident,
  type Timeline,
} from './data.ts';
export {
  actionState,
  FILTERED_INCIDENTS,
  INCIDENT_ACTIONS,
  INCIDENT_IDS_BY_PREFIX,
  INCIDENT_NOTIFICATIONS,
  INCIDENT_STATE,
  INCIDENT_TRANSITIONS,
  LATEST_INCIDENTS,
} from './queries.ts';
