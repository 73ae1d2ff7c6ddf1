/**
 * The engine's building blocks, for benchmarks that measure them beside the engine (not a stable
 * API: services use the package's main entry).
 */
export { RateTracker, trackerWords, windowLayout } from './engine/rate-tracker.ts';
export { TrackerSlab } from './engine/tracker-slab.ts';
